import type { ToolUse } from '../models/server-frames';
import { SurrogateJoiner } from '../models/text';

interface Call {
  readonly toolUseId: string;
  readonly name: string;
  input: string;
  readonly joiner: SurrogateJoiner;
}

/**
 * The tool calls of one answer as their deltas arrive: each call's input text (whole code
 * points only, like text), and at the end the `toolUses` of `done` — complete calls only, each
 * input parsed. Nothing here is logged: inputs are user data.
 */
export class ToolCalls {
  private readonly calls: Call[] = [];
  private current: Call | undefined;

  /** Takes a delta; returns the piece to send now (a trailing high surrogate waits for its pair). */
  push(toolUseId: string, name: string, inputDelta: string): string {
    let call = this.current?.toolUseId === toolUseId ? this.current : this.calls.find((c) => c.toolUseId === toolUseId);
    if (call === undefined) {
      call = { toolUseId, name, input: '', joiner: new SurrogateJoiner() };
      this.calls.push(call);
    }
    this.current = call;
    const piece = call.joiner.push(inputDelta);
    call.input += piece;
    return piece;
  }

  /** What the calls still hold back (a lone high surrogate at the very end), per call. */
  flush(): Array<{ toolUseId: string; name: string; rest: string }> {
    return this.calls.flatMap((call) => {
      const rest = call.joiner.flush();
      call.input += rest;
      return rest === '' ? [] : [{ toolUseId: call.toolUseId, name: call.name, rest }];
    });
  }

  /** Names and input sizes, for the log (never the inputs). */
  summary(): Array<{ name: string; inputChars: number }> {
    return this.calls.map((call) => ({ name: call.name, inputChars: call.input.length }));
  }

  /**
   * The complete calls, inputs parsed (empty → `{}`). A call cut by `max_tokens` (the last one)
   * is left out, and so is one whose input is not a JSON object: its frames carried it, but a
   * client cannot run it.
   */
  toolUses(stopReason: string): ToolUse[] {
    const complete = stopReason === 'max_tokens' ? this.calls.slice(0, -1) : this.calls;
    return complete.flatMap((call) => {
      const input = parseInput(call.input);
      return input === undefined ? [] : [{ toolUseId: call.toolUseId, name: call.name, input }];
    });
  }
}

function parseInput(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
