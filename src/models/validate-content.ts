import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { GatewayError } from './errors';
import { LIMITS } from './limits';
import { CONTENT_BLOCK_SCHEMAS, type ChatData, type ChatMessage, type ContentBlock } from './protocol';
import { IMAGE_MEDIA_TYPES } from '../attachments/media-types';
import { compileOnUse } from './compile-on-use';

const invalid = (detail: string): GatewayError => new GatewayError('invalid_request', `Invalid request: ${detail}.`);

const blockChecks: Record<string, () => TypeCheck<TSchema>> = Object.fromEntries(
  Object.entries(CONTENT_BLOCK_SCHEMAS).map(([type, schema]) => [type, compileOnUse<TSchema>(schema)]),
);

/** Which turn may carry which block: calls come from the model, results from the client. */
const ROLE_OF: Record<string, ChatMessage['role'] | undefined> = { tool_use: 'assistant', tool_result: 'user', image: 'user', document: 'user' };

/** An image block is an upload (`attachmentId`) or inline (`mediaType` and `data`): exactly one. */
function checkImage(block: Extract<ContentBlock, { type: 'image' }>, at: string): void {
  const inline = block.mediaType !== undefined || block.data !== undefined;
  if (block.attachmentId !== undefined && inline) throw invalid(`${at} must carry either attachmentId or mediaType and data, not both`);
  if (block.attachmentId !== undefined) return;
  if (block.mediaType === undefined || block.data === undefined) throw invalid(`${at} needs attachmentId, or mediaType and data (base64)`);
  if (!IMAGE_MEDIA_TYPES.includes(block.mediaType)) throw invalid(`${at}.mediaType must be one of ${IMAGE_MEDIA_TYPES.join(', ')}`);
  if (Buffer.byteLength(block.data, 'base64') > LIMITS.maxInlineImageBytes) {
    throw invalid(`${at}.data must be at most ${LIMITS.maxInlineImageBytes} bytes; upload a larger image with llm/upload`);
  }
}

/**
 * Why `content` (at `field`) does not match the protocol, as precisely as a client needs it:
 * which block, which field. Undefined when it is not an array of blocks (the schema's own
 * message says what it must be then). A schema union can only say "none of these matched".
 */
export function explainContent(content: unknown, field: string): string | undefined {
  if (!Array.isArray(content)) return undefined;
  if (content.length === 0 || content.length > LIMITS.maxContentBlocks) return `${field} must hold 1 to ${LIMITS.maxContentBlocks} content blocks`;
  for (const [index, block] of content.entries()) {
    const at = `${field}[${index}]`;
    const type: unknown = typeof block === 'object' && block !== null ? (block as Record<string, unknown>)['type'] : undefined;
    const check = typeof type === 'string' ? blockChecks[type] : undefined;
    if (check === undefined) return `${at}.type must be one of ${Object.keys(CONTENT_BLOCK_SCHEMAS).map((t) => `"${t}"`).join(', ')}`;
    const first = check().Errors(block).First();
    if (first) return `${at}${first.path.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')} ${first.message}`;
  }
  return undefined;
}

/** Why the result at `at` (in message `index`) answers nothing; the first turn has no turn before it to name. */
function unansweredResult(at: string, toolUseId: string, index: number): string {
  const answers = `${at}.toolUseId "${toolUseId}" answers no tool_use`;
  if (index === 0) return `${answers}: data.messages[0] is the first turn, and a tool_result must answer a tool_use of the assistant turn before it`;
  return `${answers} of the assistant turn before it (data.messages[${index - 1}])`;
}

/**
 * The rules of content blocks across turns that Bedrock and OpenAI enforce (and a schema cannot
 * say): calls only in assistant turns, results and attachments only in user turns, an image
 * either uploaded or inline; every call of an assistant
 * turn answered by exactly one result in the next user turn, and every result answering a call
 * of the turn before; ids unique within their turn.
 */
export function checkToolTurns(messages: readonly ChatMessage[]): void {
  let open = new Set<string>();
  let openAt = -1;
  for (const [index, message] of messages.entries()) {
    const blocks = typeof message.content === 'string' ? [] : message.content;
    const answered = new Set<string>();
    const calls = new Set<string>();
    for (const [b, block] of blocks.entries()) {
      const at = `data.messages[${index}].content[${b}]`;
      const role = ROLE_OF[block.type];
      if (role !== undefined && role !== message.role) throw invalid(`${at} is a "${block.type}" block, which only ${role} turns may carry`);
      if (block.type === 'image') checkImage(block, at);
      else if (block.type === 'tool_use') {
        if (calls.has(block.toolUseId)) throw invalid(`${at}.toolUseId "${block.toolUseId}" is used twice in this turn`);
        calls.add(block.toolUseId);
      } else if (block.type === 'tool_result') {
        if (!open.has(block.toolUseId)) throw invalid(unansweredResult(at, block.toolUseId, index));
        if (answered.has(block.toolUseId)) throw invalid(`${at}.toolUseId "${block.toolUseId}" is answered twice`);
        answered.add(block.toolUseId);
      }
    }
    if (message.role === 'user') {
      const missing = [...open].filter((id) => !answered.has(id));
      if (missing.length > 0) {
        throw invalid(`data.messages[${index}] must answer every tool_use of data.messages[${openAt}] with a tool_result: missing ${missing.map((id) => `"${id}"`).join(', ')}`);
      }
      open = new Set();
    } else {
      open = calls;
      openAt = index;
    }
  }
}

/** Tool names unique, a named toolChoice among them, no toolChoice without tools, schemas of bounded size. */
export function checkTools(data: ChatData): void {
  const { tools, toolChoice } = data;
  if (tools === undefined) {
    if (toolChoice !== undefined) throw invalid('data.toolChoice needs data.tools');
    return;
  }
  const names = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    if (names.has(tool.name)) throw invalid(`data.tools[${index}].name "${tool.name}" is declared twice`);
    names.add(tool.name);
    if (Buffer.byteLength(JSON.stringify(tool.inputSchema)) > LIMITS.maxToolSchemaBytes) {
      throw invalid(`data.tools[${index}].inputSchema must serialise to at most ${LIMITS.maxToolSchemaBytes} bytes of JSON`);
    }
  }
  if (typeof toolChoice === 'object' && !names.has(toolChoice.name)) {
    throw invalid(`data.toolChoice.name "${toolChoice.name}" is not one of data.tools`);
  }
}
