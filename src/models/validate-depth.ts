import { GatewayError } from './errors';
import type { ChatData } from './protocol';

/**
 * How deep the free-form JSON of a chat frame — a tool call's `input`, a tool's `inputSchema`,
 * `metadata` — may nest (objects and arrays; the field's own object is level 1). A JSON Schema or
 * a tool's arguments never need more, and everything after validation (measuring sizes with
 * JSON.stringify, the token estimate, the job on the queue) recurses: a 16 KB message of `[[[…]]]`
 * is 8,000 levels and overflowed the stack there. Checked before anything serialises the frame.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `value` nests deeper than `limit`. Iterative (an explicit stack), so no depth of input
 * can overflow it; it returns at the first object or array past the limit, and never looks
 * inside one (so it costs at most a walk of the nodes above the limit).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<readonly [node: unknown, depth: number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

/** The free-form JSON fields of a chat frame, each with its name for the client. */
function freeFormFields(data: ChatData): Array<readonly [name: string, value: unknown]> {
  return [
    ...[...(data.messages ?? []).map((message, index) => [`data.messages[${index}]`, message] as const), ...(data.message ? [['data.message', data.message] as const] : [])].flatMap(([name, message]) =>
      typeof message.content === 'string'
        ? []
        : message.content.flatMap((block, b) => (block.type === 'tool_use' ? [[`${name}.content[${b}].input`, block.input] as const] : [])),
    ),
    ...(data.tools ?? []).map((tool, index) => [`data.tools[${index}].inputSchema`, tool.inputSchema] as const),
    ...(data.metadata !== undefined ? [['data.metadata', data.metadata] as const] : []),
  ];
}

/** Refuses a chat frame whose free-form JSON nests deeper than MAX_JSON_DEPTH, naming the field. */
export function checkDepths(data: ChatData): void {
  for (const [name, value] of freeFormFields(data)) {
    if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
      throw new GatewayError('invalid_request', `Invalid request: ${name} must be JSON nested at most ${MAX_JSON_DEPTH} levels deep (objects and arrays).`);
    }
  }
}
