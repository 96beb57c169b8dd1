import { GatewayError } from '../models/errors';
import type { DoneFrame, ResponseFrame, ToolUse } from '../models/server-frames';
import { SurrogateJoiner } from '../models/text';
import { ToolCalls } from './tool-calls';
import type { AnswerDeps, EndEvent, Generation } from './generation';
import { streamSink } from './stream-sink';
import { chatSink } from './chat-sink';

/** A complete answer whose frames have been posted, all but the terminal one. */
export interface Answer {
  /** `done` or the last `response` part: posted by the caller once the request is released. */
  readonly terminal: DoneFrame | ResponseFrame;
  /** The calls' names and input sizes, for the log (inputs are user data, never logged). */
  readonly tools: Array<{ name: string; inputChars: number }>;
  /** The complete calls, inputs parsed (what a conversation keeps; the terminal frame may omit large inputs). */
  readonly toolUses: ToolUse[];
  readonly end: EndEvent;
  readonly firstTokenAt: number | undefined;
  readonly totalMs: number;
}

/**
 * Runs the model for a job and delivers its answer in the job's mode — one loop, two sinks —
 * up to the terminal frame, which it returns. Throws the reason the answer stopped (a
 * GatewayError, the abort reason, or ConnectionGoneError).
 */
export async function produceAnswer(deps: AnswerDeps, g: Generation): Promise<Answer> {
  const sink = g.job.mode === 'stream' ? streamSink(deps, g) : chatSink(deps, g);
  let firstTokenAt: number | undefined;
  // Every provider's deltas pass here: no frame ever carries half a surrogate pair.
  const joiner = new SurrogateJoiner();
  const calls = new ToolCalls();
  const flushText = (): void => {
    const rest = joiner.flush();
    g.progress.text += rest;
    if (rest !== '') sink.write(rest);
  };
  try {
    let end: EndEvent | undefined;
    for await (const event of deps.model.stream(g.request, g.signal)) {
      g.progress.called = true;
      if (event.type === 'delta') {
        firstTokenAt ??= Date.now();
        g.progress.producedChars += event.text.length;
        const text = joiner.push(event.text);
        g.progress.text += text;
        if (text !== '') sink.write(text);
      } else if (event.type === 'tool_delta') {
        firstTokenAt ??= Date.now();
        g.progress.producedChars += event.inputDelta.length;
        flushText(); // text before a call reaches the client before it
        const piece = calls.push(event.toolUseId, event.name, event.inputDelta);
        if (piece !== '' || event.inputDelta === '') sink.writeTool(event.toolUseId, event.name, piece);
      } else {
        end = event;
        g.progress.usedTokens = event.usage.totalTokens;
      }
    }
    // An SDK stream ends silently when aborted: never report that as a complete answer.
    g.signal.throwIfAborted();
    if (end === undefined) throw new GatewayError('upstream_error', 'The model ended its answer without a stop reason.');
    flushText();
    for (const { toolUseId, name, rest } of calls.flush()) sink.writeTool(toolUseId, name, rest);
    const totalMs = Date.now() - g.job.receivedAt;
    const toolUses = calls.toolUses(end.stopReason);
    const terminal = await sink.finish(end, firstTokenAt, totalMs, toolUses);
    return { terminal, end, firstTokenAt, totalMs, tools: calls.summary(), toolUses };
  } catch (error) {
    const reason: unknown = g.signal.aborted ? g.signal.reason : error;
    await sink.fail(reason);
    throw reason;
  }
}
