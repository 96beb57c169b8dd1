import { GatewayError } from './errors.js';
import type { ToolUse, ToolUseEntry } from './protocol.generated.js';

/**
 * The pieces of each tool call's input as a request received them (`tool_use` frames of a
 * stream, `response` parts of a chat answer), to complete the calls its terminal frame lists
 * with `inputOmitted`: the gateway leaves out inputs too large to repeat there (a frame holds
 * at most 128 KB), since the client already has them. So `toolUses` always carries every
 * call's input, parsed, whatever its size.
 */
export class ToolInputs {
  private readonly pieces = new Map<string, string[]>();

  /** @param fromSeq the first chunk seq this request asked for (a resume's): pieces before it never came. */
  constructor(private readonly fromSeq: () => number) {}

  /** A piece of a call's input: appended in order (a stream), or at its part's place (a chat answer). */
  add(toolUseId: string, piece: string, at?: number): void {
    let list = this.pieces.get(toolUseId);
    if (list === undefined) this.pieces.set(toolUseId, (list = []));
    if (at === undefined) list.push(piece);
    else list[at] = piece;
  }

  /** The terminal frame's calls, each with its input; throws when an omitted one cannot be rebuilt. */
  complete(entries: readonly ToolUseEntry[] | undefined, requestId: string): ToolUse[] {
    return (entries ?? []).map((entry) => ('inputOmitted' in entry ? this.rebuilt(entry.toolUseId, entry.name, requestId) : entry));
  }

  private rebuilt(toolUseId: string, name: string, requestId: string): ToolUse {
    let input: unknown;
    try {
      input = JSON.parse((this.pieces.get(toolUseId) ?? []).join(''));
    } catch {
      input = undefined;
    }
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return { toolUseId, name, input: input as Record<string, unknown> };
    const why =
      this.fromSeq() > 0
        ? `this client resumed it from fromSeq ${this.fromSeq()}, after some of its pieces: resume from fromSeq 0 to get it`
        : 'the pieces this client received do not parse as a JSON object';
    throw new GatewayError('protocol_error', `The input of the tool call "${name}" (${toolUseId}) was too large for the answer's end frame, and ${why}.`, { requestId });
  }
}
