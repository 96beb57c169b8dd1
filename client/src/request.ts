import { GatewayError } from './errors.js';
import type { DoneFrame, ErrorFrame, ResponseFrame, ServerFrame, ToolUse, TurnKept, Usage } from './protocol.generated.js';
import { ToolInputs } from './tool-inputs.js';

/** What `stream(…).done` resolves to. */
export interface StreamResult {
  readonly requestId: string;
  readonly modelId: string;
  /** `tool_use` when the model stopped to call tools (see `toolUses`). */
  readonly stopReason: string;
  readonly usage: Usage;
  readonly metrics: DoneFrame['metrics'];
  /** The model's tool calls, complete and parsed, in order; empty when it made none. */
  readonly toolUses: readonly ToolUse[];
  readonly metadata: Record<string, unknown> | undefined;
  /** A conversation's turn: the ids its messages were kept under (and how many old ones the model call left out). */
  readonly conversation?: TurnKept;
}

/** What `chat(…)` resolves to: the answer's parts joined (the last part always names model, stop reason and usage). */
export interface ChatResult {
  readonly requestId: string;
  readonly content: string;
  readonly modelId: string;
  readonly stopReason: string;
  readonly usage: Usage;
  readonly toolUses: readonly ToolUse[];
  readonly metadata: Record<string, unknown> | undefined;
  /** A conversation's turn: as in StreamResult. */
  readonly conversation?: TurnKept;
}

/** What a stream delivers, in order: text, and the pieces of tool calls as the model writes them. */
export type StreamEvent =
  | { readonly type: 'text'; readonly text: string }
  /** A piece of a call's input JSON; a call's pieces joined are its input (`done.toolUses` has it parsed). */
  | { readonly type: 'tool_use'; readonly toolUseId: string; readonly name: string; readonly inputDelta: string };

/**
 * A streamed answer: iterate it for the text deltas (in order, each once) — or `events()` for
 * text and tool calls together; `done` settles with the end. Read it one way, not both.
 */
export interface GatewayStream extends AsyncIterable<string> {
  readonly requestId: string;
  /**
   * The capability to resume this answer (from `accepted`; undefined until then): keep it (e.g.
   * in sessionStorage) to `client.resume()` it after a page reload. A secret, like a session.
   */
  readonly resumeToken: string | undefined;
  readonly done: Promise<StreamResult>;
  events(): AsyncIterable<StreamEvent>;
}

/** What reaches an accepted request from any connection: its resume token, or its conversation (the owner's). */
export type ResumeTarget = { readonly resumeToken: string } | { readonly conversationId: string };

/** Runs a caller's callback; its bug must not stop the frame's routing, so it is reported as uncaught. */
function callback<T>(fn: ((value: T) => void) | undefined, value: T): void {
  try {
    fn?.(value);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

export function errorOf(frame: ErrorFrame): GatewayError {
  return new GatewayError(frame.code, frame.message, {
    retryable: frame.retryable,
    ...(frame.retryAfterMs !== undefined ? { retryAfterMs: frame.retryAfterMs } : {}),
    ...(frame.requestId !== undefined ? { requestId: frame.requestId } : {}),
  });
}

/**
 * One request in flight, as the client tracks it across connections: the frame that started it,
 * the resume token once accepted, the next chunk `seq` it expects (so a resume replays from
 * there and a duplicate is dropped), the text not yet read, and exactly one settlement.
 */
export class PendingRequest implements GatewayStream {
  readonly done: Promise<StreamResult>;
  resumeToken: string | undefined;
  /** A conversation's running answer resumed by its conversation (no token): `llm/resume` and `llm/cancel` name it instead. */
  conversationId: string | undefined;
  nextSeq = 0;
  /** The seq this client's frames of it start at: 0, or a resume's `fromSeq` (see startAt). */
  private startSeq = 0;
  /** Sent on the current connection (or awaiting a resume on the next one). */
  sent = false;
  /** The request frame reached a connection at least once: the gateway may be running it. */
  everSent = false;
  /** A resume of it was sent and its first answer has not arrived yet. */
  resuming = false;
  /** The caller's `onAccepted` and `onResumed` (RequestOptions). */
  onAccepted: ((resumeToken: string) => void) | undefined;
  onResumed: ((fromSeq: number) => void) | undefined;
  private answerTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly items: StreamEvent[] = [];
  private wake: (() => void) | undefined;
  private failure: GatewayError | undefined;
  private finished = false;
  private readonly parts: string[] = [];
  private readonly toolInputs = new ToolInputs(() => this.startSeq);
  private resolveDone!: (result: StreamResult) => void;
  private rejectDone!: (error: GatewayError) => void;
  private resolveChat: ((result: ChatResult) => void) | undefined;

  constructor(
    readonly requestId: string,
    readonly frame: Record<string, unknown>,
    readonly mode: 'stream' | 'chat',
    private readonly onSettled: () => void,
  ) {
    this.done = new Promise<StreamResult>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Settled by the iterator's caller or not at all: never an unhandled rejection.
    this.done.catch(() => undefined);
  }

  get settled(): boolean {
    return this.finished || this.failure !== undefined;
  }

  /** How a resume or a cancel reaches it from another connection; undefined until it was accepted. */
  get resumeTarget(): ResumeTarget | undefined {
    if (this.resumeToken !== undefined) return { resumeToken: this.resumeToken };
    return this.conversationId !== undefined ? { conversationId: this.conversationId } : undefined;
  }

  /** An answer another client started, resumed from `seq` on: the chunks before it are not this client's. */
  startAt(seq: number): void {
    this.startSeq = seq;
    this.nextSeq = seq;
  }

  /** The chat answer, for `chat(…)`. */
  chatResult(): Promise<ChatResult> {
    return new Promise<ChatResult>((resolve, reject) => {
      this.resolveChat = resolve;
      this.done.catch(reject);
    });
  }

  /**
   * Starts waiting for the gateway's first answer to the frame just sent (`accepted` for the
   * request, `resumed` or any frame of it for a resume); `onTimeout` runs if none comes in time.
   */
  awaitAnswer(timeoutMs: number, onTimeout: () => void): void {
    clearTimeout(this.answerTimer);
    this.answerTimer = setTimeout(onTimeout, timeoutMs);
    (this.answerTimer as { unref?: () => void }).unref?.();
  }

  /** Takes one frame of this request; returns 'gap' when chunks went missing (resume to mend). */
  receive(frame: ServerFrame): 'ok' | 'gap' {
    if (this.settled) return 'ok';
    clearTimeout(this.answerTimer);
    this.resuming = false;
    switch (frame.type) {
      case 'accepted':
        this.resumeToken = frame.resumeToken;
        callback(this.onAccepted, frame.resumeToken);
        return 'ok';
      case 'resumed':
        callback(this.onResumed, frame.fromSeq);
        return 'ok';
      case 'chunk':
      case 'tool_use':
        // Text and tool calls share one seq: a resume replays both from the first not delivered.
        if (frame.seq < this.nextSeq) return 'ok'; // replayed by a resume: already delivered
        if (frame.seq > this.nextSeq) return 'gap';
        this.nextSeq += 1;
        if (frame.type === 'tool_use') this.toolInputs.add(frame.toolUseId, frame.inputDelta);
        this.push(frame.type === 'chunk' ? { type: 'text', text: frame.content } : { type: 'tool_use', toolUseId: frame.toolUseId, name: frame.name, inputDelta: frame.inputDelta });
        return 'ok';
      case 'done': {
        const toolUses = this.completeToolUses(frame.toolUses);
        if (toolUses === undefined) return 'ok';
        this.succeed({
          requestId: this.requestId,
          modelId: frame.modelId,
          stopReason: frame.stopReason,
          usage: frame.usage,
          metrics: frame.metrics,
          toolUses,
          metadata: frame.metadata,
          ...(frame.conversation !== undefined ? { conversation: frame.conversation } : {}),
        });
        return 'ok';
      }
      case 'response':
        this.onPart(frame);
        return 'ok';
      case 'error':
        this.fail(errorOf(frame));
        return 'ok';
      default:
        return 'ok';
    }
  }

  fail(error: GatewayError): void {
    if (this.settled) return;
    clearTimeout(this.answerTimer);
    this.failure = error;
    this.rejectDone(error);
    this.onSettled();
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for await (const event of this.events()) if (event.type === 'text') yield event.text;
  }

  async *events(): AsyncIterable<StreamEvent> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.finished) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private onPart(frame: ResponseFrame): void {
    this.parts[frame.part] = frame.content;
    if (frame.toolUseId !== undefined && frame.inputDelta !== undefined) this.toolInputs.add(frame.toolUseId, frame.inputDelta, frame.part);
    if (frame.part !== frame.parts - 1) return;
    const { modelId, stopReason, usage } = frame;
    if (modelId === undefined || stopReason === undefined || usage === undefined) {
      this.fail(new GatewayError('protocol_error', 'The last response part lacks modelId, stopReason or usage.', { requestId: this.requestId }));
      return;
    }
    const content = this.parts.join('');
    const toolUses = this.completeToolUses(frame.toolUses);
    if (toolUses === undefined) return;
    const conversation = frame.conversation !== undefined ? { conversation: frame.conversation } : {};
    this.resolveChat?.({ requestId: this.requestId, content, modelId, stopReason, usage, toolUses, metadata: frame.metadata, ...conversation });
    this.push({ type: 'text', text: content });
    this.succeed({ requestId: this.requestId, modelId, stopReason, usage, metrics: { timeToFirstTokenMs: null, totalMs: 0 }, toolUses, metadata: frame.metadata, ...conversation });
  }

  /** The terminal frame's calls with every input (see ToolInputs); undefined when that failed the request. */
  private completeToolUses(entries: DoneFrame['toolUses']): ToolUse[] | undefined {
    try {
      return this.toolInputs.complete(entries, this.requestId);
    } catch (error) {
      this.fail(error instanceof GatewayError ? error : new GatewayError('protocol_error', String(error), { requestId: this.requestId }));
      return undefined;
    }
  }

  private push(event: StreamEvent): void {
    this.items.push(event);
    this.wake?.();
  }

  private succeed(result: StreamResult): void {
    clearTimeout(this.answerTimer);
    this.finished = true;
    this.resolveDone(result);
    this.onSettled();
    this.wake?.();
  }
}
