import type { ResumeTarget } from './request.js';

/**
 * Requests this client gave up on (aborted, or timed out) that the gateway may still be running:
 * their `llm/cancel` is owed until it can be sent where it reaches them. A request with its resume
 * token (or resumed by its conversation) is cancelled by it, from whatever connection is open next — the connection that
 * sent it may be gone. One without a token yet (given up before `accepted`) is cancelled by id at
 * once, and again with the token if its `accepted` still arrives. Entries end when their cancel
 * with a token is sent, when the request's end is seen, or after `ttlMs`.
 */
export class PendingCancels {
  private readonly owed = new Map<string, { target: ResumeTarget | undefined; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  add(requestId: string, target: ResumeTarget | undefined): void {
    this.owed.set(requestId, { target, expiresAt: Date.now() + this.ttlMs });
  }

  has(requestId: string): boolean {
    return this.owed.has(requestId);
  }

  /** The request's `accepted` arrived after it was given up: its cancel can now carry the token. */
  accepted(requestId: string, resumeToken: string): void {
    const entry = this.owed.get(requestId);
    if (entry !== undefined) entry.target = { resumeToken };
  }

  /** The request ended (its terminal frame or a refusal arrived): nothing is owed any more. */
  ended(requestId: string): void {
    this.owed.delete(requestId);
  }

  /**
   * The cancel frames to send on an open connection now. Those with a token are settled by it;
   * those without stay until their `accepted` (or end) is seen, and are sent by id only once.
   */
  take(): Array<Record<string, unknown>> {
    const now = Date.now();
    const frames: Array<Record<string, unknown>> = [];
    for (const [requestId, entry] of this.owed) {
      if (entry.expiresAt <= now) {
        this.owed.delete(requestId);
      } else if (entry.target !== undefined) {
        frames.push({ action: 'llm/cancel', requestId, data: { ...entry.target } });
        this.owed.delete(requestId);
      } else if (!this.sentById.has(requestId)) {
        this.sentById.add(requestId);
        frames.push({ action: 'llm/cancel', requestId });
      }
    }
    for (const id of this.sentById) if (!this.owed.has(id)) this.sentById.delete(id);
    return frames;
  }

  private readonly sentById = new Set<string>();
}
