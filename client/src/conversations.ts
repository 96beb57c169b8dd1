import { pageOf, type Conversation, type ConversationDefaults, type ConversationsPage, type MessagesPage } from './conversation-pages.js';
import { GatewayError } from './errors.js';
import { randomId } from './keepalive.js';
import type { ConversationFrame, ConversationsFrame, DeletedFrame, MessagesFrame, ServerFrame } from './protocol.generated.js';
import { errorOf, type GatewayStream } from './request.js';
import type { RequestOptions } from './types.js';

/** What the conversations need of the client: its connection, how long the gateway may take, and a resume. */
export interface ConversationLink {
  connect(): Promise<void>;
  send(frame: unknown): boolean;
  readonly timeoutMs: number;
  resume(target: { readonly requestId: string; readonly conversationId: string; readonly fromSeq: number }, options: Pick<RequestOptions, 'signal' | 'onResumed'>): GatewayStream;
}

type Answer = ConversationFrame | ConversationsFrame | MessagesFrame | DeletedFrame;

/** A `conv/*` frame sent and waiting for its answer: one frame, or for `conv/get` every part of a message in parts. */
interface Waiting {
  readonly frame: Record<string, unknown>;
  /** A read, sent again after a reconnect; a write (create, rename, delete) ends with `connection_lost` instead. */
  readonly read: boolean;
  readonly frames: MessagesFrame[];
  sent: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(frames: Answer[]): void;
  reject(error: GatewayError): void;
}

const ANSWERS = new Set(['conversation', 'conversations', 'messages', 'deleted']);

/**
 * Conversations kept on the gateway (`client.conversations`): made, listed, read a page at a
 * time (a message sent in parts joined), renamed and deleted; and the answer a conversation is
 * running found and resumed — or cancelled — from any client of its owner, with no resume
 * token (after a page reload, say). A turn is `client.stream({ conversationId, message })`.
 */
export class Conversations {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly link: ConversationLink) {}

  /** Makes a conversation; `defaults` are kept for each of its turns. */
  async create(defaults: ConversationDefaults = {}): Promise<Conversation> {
    const [frame] = await this.ask('conv/create', Object.keys(defaults).length > 0 ? defaults : undefined, false);
    return (frame as ConversationFrame).conversation;
  }

  /** The owner's conversations, newest first (`limit` 1–100, default 20; `cursor` from the page before). */
  async list(options: { readonly cursor?: string; readonly limit?: number } = {}): Promise<ConversationsPage> {
    const [frame] = await this.ask('conv/list', Object.keys(options).length > 0 ? options : undefined, true);
    const { items, cursor } = frame as ConversationsFrame;
    return { items, ...(cursor !== undefined ? { cursor } : {}) };
  }

  /**
   * A page of its messages (`order` `oldest`, the default, or `newest`; `limit` 1–100, default
   * 20; `cursor` from the page before, with the same order), and `running` while it answers. A
   * message the gateway sent in parts comes joined.
   */
  async get(conversationId: string, options: { readonly cursor?: string; readonly limit?: number; readonly order?: 'oldest' | 'newest' } = {}): Promise<MessagesPage> {
    const requestId = randomId();
    const frames = await this.ask('conv/get', { conversationId, ...options }, true, requestId);
    return pageOf(frames as MessagesFrame[], requestId);
  }

  async rename(conversationId: string, title: string): Promise<Conversation> {
    const [frame] = await this.ask('conv/rename', { conversationId, title }, false);
    return (frame as ConversationFrame).conversation;
  }

  /** Deletes it with its messages (and stops an answer it runs); `not_found` when it is unknown. */
  async delete(conversationId: string): Promise<void> {
    await this.ask('conv/delete', { conversationId }, false);
  }

  /**
   * The answer the conversation is running, resumed here from `fromSeq` (default 0: from its
   * start) — found with `conv/get` (its `running.requestId`) and resumed by the conversation
   * (`llm/resume` with `conversationId`), so no resume token is needed: a reloaded page finds
   * it. Null when it runs none. The stream is `stream()`'s; it fails with `resume_unavailable`
   * when the answer ended in between (`get()` then shows it). Aborting `signal` stops the answer.
   */
  async resume(conversationId: string, options: { readonly fromSeq?: number } & Pick<RequestOptions, 'signal' | 'onResumed'> = {}): Promise<GatewayStream | null> {
    const { running } = await this.get(conversationId, { order: 'newest', limit: 1 });
    if (running === undefined) return null;
    const { fromSeq = 0, ...rest } = options;
    return this.link.resume({ requestId: running.requestId, conversationId, fromSeq }, rest);
  }

  /**
   * Stops the answer the conversation is running, from any client of its owner (`llm/cancel` with
   * `conversationId`); resolves with whether it was running one. Its stream ends with `cancelled`.
   */
  async cancel(conversationId: string): Promise<boolean> {
    const { running } = await this.get(conversationId, { order: 'newest', limit: 1 });
    if (running === undefined) return false;
    await this.link.connect();
    if (!this.link.send({ action: 'llm/cancel', requestId: running.requestId, data: { conversationId } })) {
      throw new GatewayError('connection_lost', 'The connection closed before the cancel was sent.', { retryable: true });
    }
    return true;
  }

  /** Takes a frame if it answers a `conv/*` request; returns whether it did. */
  receive(frame: ServerFrame): boolean {
    const refused = frame.type === 'error' && frame.requestId === undefined ? frame.refusedRequestId : undefined;
    const requestId = refused ?? ('requestId' in frame ? frame.requestId : undefined);
    const waiter = requestId === undefined ? undefined : this.waiting.get(requestId);
    if (waiter === undefined) return false;
    if (frame.type === 'error') {
      waiter.reject(errorOf({ ...frame, requestId: requestId! }));
      return true;
    }
    if (!ANSWERS.has(frame.type)) return false;
    if (frame.type !== 'messages') {
      waiter.resolve([frame as Answer]);
      return true;
    }
    // A message too large for one frame comes in parts; the page is whole with its last.
    waiter.frames.push(frame);
    if (frame.parts === undefined || waiter.frames.length >= frame.parts) waiter.resolve(waiter.frames);
    return true;
  }

  /** A socket opened: reads that were waiting go (again). */
  opened(): void {
    for (const waiter of this.waiting.values()) if (!waiter.sent) this.sendFrame(waiter);
  }

  /** The socket closed: a write sent may or may not have been done (`connection_lost`, retryable); a read is sent again. */
  closed(): void {
    for (const waiter of [...this.waiting.values()]) {
      if (waiter.sent && !waiter.read) waiter.reject(new GatewayError('connection_lost', `The connection closed before ${String(waiter.frame.action)} was answered.`, { retryable: true }));
      waiter.sent = false;
      waiter.frames.length = 0;
    }
  }

  /** The client closed, or the gateway refused it: every request ends with `error`. */
  failAll(error: GatewayError): void {
    for (const waiter of [...this.waiting.values()]) waiter.reject(error);
  }

  private ask(action: string, data: object | undefined, read: boolean, requestId = randomId()): Promise<Answer[]> {
    const frame = { action, requestId, ...(data !== undefined ? { data } : {}) };
    return new Promise<Answer[]>((resolve, reject) => {
      const settle =
        <T,>(fn: (value: T) => void) =>
        (value: T): void => {
          if (this.waiting.get(requestId) !== waiter) return;
          clearTimeout(waiter.timer);
          this.waiting.delete(requestId);
          fn(value);
        };
      const waiter: Waiting = { frame, read, frames: [], sent: false, timer: undefined, resolve: settle(resolve), reject: settle(reject) };
      this.waiting.set(requestId, waiter);
      // Waits (bounded) for the connection, as a request does; opened() sends it then.
      this.link.connect().then(
        () => {
          if (!waiter.sent) this.sendFrame(waiter);
        },
        (error: unknown) => waiter.reject(error instanceof GatewayError ? error : new GatewayError('connection_lost', String(error))),
      );
    });
  }

  private sendFrame(waiter: Waiting): void {
    let sent: boolean;
    try {
      sent = this.link.send(waiter.frame);
    } catch (error) {
      // Too large to send (payload_too_large: defaults with large tools): refused here, never sent.
      waiter.reject(error instanceof GatewayError ? error : new GatewayError('protocol_error', String(error)));
      return;
    }
    if (!sent) return;
    waiter.sent = true;
    clearTimeout(waiter.timer);
    waiter.timer = setTimeout(() => {
      waiter.reject(new GatewayError('request_timeout', `The gateway did not answer ${String(waiter.frame.action)} within ${this.link.timeoutMs} ms.`, { retryable: true }));
    }, this.link.timeoutMs);
    (waiter.timer as { unref?: () => void }).unref?.();
  }
}
