import { GatewayError } from '../models/errors';
import { LIMITS } from '../models/limits';
import type { ToolUse, ToolUseEntry } from '../models/server-frames';

/**
 * The most a terminal frame (`done`, the last `response` part) may serialise to: API Gateway's
 * 128 KB message, less a margin. It is also what the stream's end stores beside its meta, far
 * below DynamoDB's 400 KB item.
 */
export const MAX_TERMINAL_BYTES = LIMITS.maxMessageBytes - 1024;

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** The calls as the terminal frame lists them, and those whose inputs it leaves out. */
export interface FittedToolUses {
  readonly toolUses: ToolUseEntry[];
  /** The calls listed with `inputOmitted`, in order: their inputs must reach the client some other way. */
  readonly omitted: ToolUse[];
}

/**
 * Lists `toolUses` in the terminal frame `frameOf` builds, leaving out the largest inputs — one
 * by one, largest first — until the frame fits `maxBytes`. A model may write a whole file as a
 * call's input (up to the output budget, 200,000 tokens), and the frame that ends the request
 * must be deliverable whatever it wrote: a frame API Gateway refuses would leave the request
 * without its end. Throws when even the calls without any input do not fit (hundreds of calls
 * in one answer): then the request ends with that error instead.
 */
export function fitToolUses(toolUses: readonly ToolUse[], frameOf: (toolUses: ToolUseEntry[] | undefined) => unknown, maxBytes = MAX_TERMINAL_BYTES): FittedToolUses {
  const entries: ToolUseEntry[] = [...toolUses];
  const listed = (): ToolUseEntry[] | undefined => (entries.length > 0 ? entries : undefined);
  let size = bytesOf(frameOf(listed()));
  if (size <= maxBytes) return { toolUses: entries, omitted: [] };
  const largestFirst = toolUses
    .map((use, index) => ({ index, bytes: bytesOf(use.input) }))
    .sort((a, b) => b.bytes - a.bytes);
  for (const { index } of largestFirst) {
    const use = toolUses[index]!;
    const entry: ToolUseEntry = { toolUseId: use.toolUseId, name: use.name, inputOmitted: true };
    // The entry's size changes by exactly the difference of the two serialisations.
    size += bytesOf(entry) - bytesOf(use);
    entries[index] = entry;
    if (size <= maxBytes) break;
  }
  if (bytesOf(frameOf(listed())) > maxBytes) {
    throw new GatewayError('upstream_error', `The model made ${toolUses.length} tool calls in one answer, more than one frame can list; ask for fewer at a time.`, {
      retryable: false,
    });
  }
  const omitted = toolUses.filter((_, index) => 'inputOmitted' in entries[index]!);
  return { toolUses: entries, omitted };
}
