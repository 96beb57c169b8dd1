import type { AppConfig } from '../config/config';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../llm/chat-model';
import { GatewayError } from '../models/errors';
import type { DoneFrame, ResponseFrame, ToolUse } from '../models/server-frames';
import type { Job } from '../models/job';
import { LIMITS } from '../models/limits';
import { SurrogateJoiner } from '../models/text';
import { ConnectionGoneError } from '../utils/websocket';
import type { StreamTarget } from './stream-target';
import { ChunkStream } from '../delivery/chunk-stream';
import { splitToFit } from '../delivery/frame-split';
import { ToolCalls } from './tool-calls';

export type EndEvent = Extract<ChatModelEvent, { type: 'end' }>;

/** What a generation has used so far, for settling the token budget however it ends. */
export interface Progress {
  /**
   * The model started answering (sent any event). A request refused before — by its attachments'
   * checks, or by the provider before the stream (invalid, throttled) — used no tokens.
   */
  called: boolean;
  producedChars: number;
  usedTokens: number | undefined;
}

/** One generation in progress: the job, and the signal that stops it. */
export interface Generation {
  readonly job: Job;
  /** The job's request as the model gets it (attachments read and checked). */
  readonly request: ChatModelRequest;
  readonly signal: AbortSignal;
  readonly abort: (reason: unknown) => void;
  readonly progress: Progress;
}

/** A complete answer whose frames have been posted, all but the terminal one. */
export interface Answer {
  /** `done` or the last `response` part: posted by the caller once the request is released. */
  readonly terminal: DoneFrame | ResponseFrame;
  /** The calls' names and input sizes, for the log (inputs are user data, never logged). */
  readonly tools: Array<{ name: string; inputChars: number }>;
  readonly end: EndEvent;
  readonly firstTokenAt: number | undefined;
  readonly totalMs: number;
}

export interface AnswerDeps {
  readonly model: ChatModel;
  /** Logs and posts each frame but the terminal one, where the answer goes now. */
  readonly target: StreamTarget;
  readonly stream: AppConfig['stream'];
}

/** Where the model's text goes: chunk frames as it arrives (stream) or one piece at the end (chat). */
interface Sink {
  write(text: string): void;
  /** A piece of a tool call's input (stream: tool_use frames; chat: only `toolUses` at the end). */
  writeTool(toolUseId: string, name: string, inputDelta: string): void;
  /** Delivers what is pending and returns the terminal frame (not posted). */
  finish(end: EndEvent, firstTokenAt: number | undefined, totalMs: number, toolUses: ToolUse[]): Promise<DoneFrame | ResponseFrame>;
  /** The answer failed with `reason`: deliver what the client should still see, then clean up. */
  fail(reason: unknown): Promise<void>;
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
    const terminal = await sink.finish(end, firstTokenAt, totalMs, calls.toolUses(end.stopReason));
    return { terminal, end, firstTokenAt, totalMs, tools: calls.summary() };
  } catch (error) {
    const reason: unknown = g.signal.aborted ? g.signal.reason : error;
    await sink.fail(reason);
    throw reason;
  }
}

function streamSink(deps: AnswerDeps, g: Generation): Sink {
  const { requestId, receivedAt, metadata } = g.job;
  const chunks = new ChunkStream({
    requestId,
    post: (frame) => deps.target.post(frame, frame.seq),
    onFailure: g.abort,
    flushIntervalMs: deps.stream.flushIntervalMs,
    maxFlushIntervalMs: deps.stream.maxFlushIntervalMs,
    flushBytes: deps.stream.flushBytes,
  });
  return {
    write: (text) => chunks.write(text),
    writeTool: (toolUseId, name, inputDelta) => chunks.writeTool(toolUseId, name, inputDelta),
    finish: async (end, firstTokenAt, totalMs, toolUses) => {
      await chunks.end();
      return {
        type: 'done',
        requestId,
        seq: chunks.sent,
        modelId: end.modelId,
        stopReason: end.stopReason,
        usage: end.usage,
        metrics: { timeToFirstTokenMs: firstTokenAt === undefined ? null : firstTokenAt - receivedAt, totalMs },
        ...(toolUses.length > 0 ? { toolUses } : {}),
        ...(metadata ? { metadata } : {}),
      };
    },
    fail: async (reason) => {
      // Text the model already produced reaches the client before the error frame does.
      if (!(reason instanceof ConnectionGoneError)) await chunks.end().catch(() => undefined);
      chunks.close();
    },
  };
}

function chatSink(deps: AnswerDeps, g: Generation): Sink {
  const { requestId, metadata } = g.job;
  let content = '';
  return {
    write: (text) => {
      content += text;
    },
    // A chat answer carries its calls whole, in `toolUses` of the last part.
    writeTool: () => undefined,
    finish: async (end, _firstTokenAt, _totalMs, toolUses) => {
      const last = (piece: string, part: number, parts: number): ResponseFrame => ({
        type: 'response',
        requestId,
        part,
        parts,
        content: piece,
        modelId: end.modelId,
        stopReason: end.stopReason,
        usage: end.usage,
        ...(toolUses.length > 0 ? { toolUses } : {}),
        ...(metadata ? { metadata } : {}),
      });
      // Sized as the last part (the largest shape), so every part fits the message limit.
      const pieces = splitToFit(content, LIMITS.maxMessageBytes - 1024, (piece) => last(piece, 999_999, 999_999));
      for (const [part, piece] of pieces.slice(0, -1).entries()) {
        await deps.target.post({ type: 'response', requestId, part, parts: pieces.length, content: piece }, part);
      }
      return last(pieces[pieces.length - 1] ?? '', pieces.length - 1, pieces.length);
    },
    fail: () => Promise.resolve(),
  };
}
