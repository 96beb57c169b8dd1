/**
 * assistant-ui's resumable client storage (structurally: its `ResumableClientStorage`): the id
 * of the answer a thread should resume, read synchronously while it renders, with listeners told
 * when it changes.
 */
export interface ResumableStorage {
  getStreamId(threadId?: string): string | null;
  setStreamId(id: string, threadId?: string): void;
  clear(threadId?: string): void;
  subscribe(listener: () => void, threadId?: string): () => void;
}

/**
 * The answers conversations were running when a page loaded, as assistant-ui's runtime asks for
 * them: nothing is kept in the page — the first time a thread asks (or subscribes), the gateway
 * is asked (`conv/get`) which answer its conversation runs, and the thread's listeners are told
 * once it says. A thread resumes it through the transport's `reconnectToStream`; its end (or
 * `clear`) forgets it, so it is resumed once.
 */
export class RunningAnswers implements ResumableStorage {
  /** By conversation: the running answer's request id, or null for none (or no longer). */
  private readonly known = new Map<string, string | null>();
  private readonly asked = new Set<string>();
  private readonly listeners = new Set<{ readonly listener: () => void; readonly conversationId: string | undefined }>();

  constructor(
    private readonly conversationOf: (chatId: string) => string | undefined,
    private readonly lookUp: (conversationId: string) => Promise<string | undefined>,
  ) {}

  getStreamId(threadId?: string): string | null {
    const conversationId = this.conversationOf(threadId ?? '');
    if (conversationId === undefined) return null;
    this.ask(conversationId);
    return this.known.get(conversationId) ?? null;
  }

  setStreamId(id: string, threadId?: string): void {
    this.set(this.conversationOf(threadId ?? ''), id);
  }

  clear(threadId?: string): void {
    this.set(this.conversationOf(threadId ?? ''), null);
  }

  subscribe(listener: () => void, threadId?: string): () => void {
    const entry = { listener, conversationId: this.conversationOf(threadId ?? '') };
    this.listeners.add(entry);
    if (entry.conversationId !== undefined) this.ask(entry.conversationId);
    return () => void this.listeners.delete(entry);
  }

  /** The conversation's answer ended (or there was none to resume): nothing to resume any more. */
  ended(conversationId: string): void {
    this.set(conversationId, null);
  }

  private set(conversationId: string | undefined, value: string | null): void {
    if (conversationId === undefined || this.known.get(conversationId) === value) return;
    this.known.set(conversationId, value);
    for (const entry of [...this.listeners]) {
      if (entry.conversationId !== conversationId) continue;
      try {
        entry.listener();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private ask(conversationId: string): void {
    if (this.asked.has(conversationId)) return;
    this.asked.add(conversationId);
    this.lookUp(conversationId).then(
      (requestId) => {
        // Only what the page has not learnt meanwhile (an answer of its own, an end).
        if (!this.known.has(conversationId) && requestId !== undefined) this.set(conversationId, requestId);
      },
      () => undefined,
    );
  }
}
