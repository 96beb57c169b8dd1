import type { AppConfig } from '../config/config';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../llm/chat-model';
import type { DoneFrame, ResponseFrame, ToolUse } from '../models/server-frames';
import type { Job } from '../models/job';
import type { StreamTarget } from './stream-target';

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
  /** The answer's text so far (whole code points): what a conversation keeps of an answer cut short. */
  text: string;
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

export interface AnswerDeps {
  readonly model: ChatModel;
  /** Logs and posts each frame but the terminal one, where the answer goes now. */
  readonly target: StreamTarget;
  readonly stream: AppConfig['stream'];
}

/**
 * Where an answer goes, one per mode (produceAnswer runs one loop into either): `chunk` and
 * `tool_use` frames as the model writes (stream), or `response` parts at the end (chat).
 */
export interface Sink {
  write(text: string): void;
  /** A piece of a tool call's input (stream: tool_use frames; chat: only at the end). */
  writeTool(toolUseId: string, name: string, inputDelta: string): void;
  /** Delivers what is pending and returns the terminal frame (not posted). */
  finish(end: EndEvent, firstTokenAt: number | undefined, totalMs: number, toolUses: ToolUse[]): Promise<DoneFrame | ResponseFrame>;
  /** The answer failed with `reason`: deliver what the client should still see, then clean up. */
  fail(reason: unknown): Promise<void>;
}
