import type { AppConfig } from '../config/config';
import { GatewayError } from '../models/errors';
import type { CounterStore } from '../stores/counter-store';

/** Who a limit applies to: the authenticated user, else the source IP. */
export interface Subject {
  readonly connectionId: string;
  readonly userId: string | undefined;
  readonly sourceIp: string;
}

/**
 * What an admission took, as plain data: it travels with the job through the queue, so the
 * worker that runs the generation (another invocation) can settle it. Settle it once, however
 * the generation ended: the concurrency slots are given back and the token reservation is
 * corrected to what was really used.
 */
export interface AdmissionTicket {
  /** The per-minute token counter the reservation was added to; absent when tokens are unlimited. */
  readonly tokenKey?: string;
  readonly reservedTokens: number;
  /** Expiry (epoch seconds) of the token counter's window. */
  readonly windowExpiry: number;
  /** The name of the slot held under each of `slots` (the request's jobId). */
  readonly slotId: string;
  /** The concurrency keys under which this request holds one slot each. */
  readonly slots: readonly string[];
}

/** How long to suggest waiting when a concurrency slot is taken (a generation takes seconds). */
const CONCURRENCY_RETRY_MS = 1000;

/** The fixed one-minute window of a moment: its number, its end (ms) and its counters' expiry (s). */
function windowAt(nowMs: number): { window: number; windowEnd: number; windowExpiry: number } {
  const window = Math.floor(nowMs / 60_000);
  const windowEnd = (window + 1) * 60_000;
  return { window, windowEnd, windowExpiry: windowEnd / 1000 + 60 };
}

/** The slots key of one connection's answers in flight. */
export function connectionSlotsKey(connectionId: string): string {
  return `conc:conn:${connectionId}`;
}

/** The key the limits of one caller are counted under: the user, else the source IP. */
export function subjectKey(subject: Pick<Subject, 'userId' | 'sourceIp'>): string {
  return subject.userId !== undefined ? `user:${subject.userId}` : `ip:${subject.sourceIp}`;
}

/**
 * Per-user limits on chat requests, checked before any model call, all at once: answers in
 * flight per connection and per user, requests and tokens per minute (fixed one-minute windows;
 * the refusal says when the next window opens). The
 * counters live in the shared CounterStore, so every Lambda instance sees the same totals.
 * Anonymous callers are limited by source IP. A refused request takes nothing: whatever it had
 * taken before the refusal is given back, so it counts toward no limit.
 */
export class RateLimiter {
  constructor(
    private readonly counters: CounterStore,
    private readonly limits: AppConfig['limits'],
    private readonly slotTtlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Admits a request that may use up to `reservedTokens` (prompt estimate plus maxTokens),
   * holding its concurrency slots under the name `slotId`.
   */
  async admit(subject: Subject, reservedTokens: number, slotId: string): Promise<AdmissionTicket> {
    const who = subjectKey(subject);
    const nowMs = this.now();
    const { requestsPerMinute, tokensPerMinute, concurrentPerConnection, concurrentPerUser } = this.limits;
    if (tokensPerMinute > 0 && reservedTokens > tokensPerMinute) {
      // No wait would ever let it through: say so instead of inviting a retry.
      throw new GatewayError(
        'invalid_request',
        `Invalid request: it may use up to ${reservedTokens} tokens (prompt estimate plus maxTokens), more than the ` +
          `${tokensPerMinute} tokens per minute allowed. Shorten the conversation or lower data.inferenceConfig.maxTokens.`,
      );
    }
    const { window, windowEnd, windowExpiry } = windowAt(nowMs);
    const tokenKey = `tpm:${who}:${window}`;
    const reserved = tokensPerMinute > 0 ? reservedTokens : 0;
    const rpmKey = `rpm:${who}:${window}`;
    const slotExpiry = Math.floor(nowMs / 1000) + this.slotTtlSeconds;
    const overLimit = (what: string): GatewayError =>
      new GatewayError('rate_limited', `Rate limit reached: ${what} per minute.`, { retryable: true, retryAfterMs: windowEnd - nowMs });
    const full = (limit: number, scope: string): GatewayError =>
      new GatewayError('rate_limited', `At most ${limit} answers may run at once ${scope}.`, { retryable: true, retryAfterMs: CONCURRENCY_RETRY_MS });
    // Every limit is checked at once — one round trip, not four — each by its own atomic
    // conditional write, so together they can never admit more than any one allows. What a
    // refused request took meanwhile is given back before the refusal is thrown; the refusal
    // named is the first in this order (concurrency before the per-minute budgets).
    const slotKeys = [
      { key: connectionSlotsKey(subject.connectionId), limit: concurrentPerConnection, scope: 'on this connection' },
      { key: `conc:${who}`, limit: concurrentPerUser, scope: 'for this user' },
    ].filter((slot) => slot.limit > 0);
    const checks: Array<{ readonly taken: Promise<boolean>; readonly refusal: GatewayError; readonly undo: () => Promise<void> }> = [
      ...slotKeys.map(({ key, limit, scope }) => ({
        taken: this.counters.acquireSlot(key, slotId, limit, slotExpiry),
        refusal: full(limit, scope),
        undo: () => this.counters.releaseSlot(key, slotId),
      })),
      ...(requestsPerMinute > 0
        ? [{ taken: this.counters.tryAdd(rpmKey, 1, requestsPerMinute, windowExpiry).then((r) => r.ok), refusal: overLimit(`${requestsPerMinute} requests`), undo: () => this.counters.release(rpmKey, 1) }]
        : []),
      // Tokens: reserve the worst case now, settle to the real usage when the answer ends, so
      // concurrent streams cannot together overshoot the budget.
      ...(reserved > 0
        ? [{ taken: this.counters.tryAdd(tokenKey, reserved, tokensPerMinute, windowExpiry).then((r) => r.ok), refusal: overLimit(`${tokensPerMinute} tokens`), undo: () => this.counters.release(tokenKey, reserved) }]
        : []),
    ];
    const outcomes = await Promise.allSettled(checks.map((check) => check.taken));
    const refused = outcomes.findIndex((outcome) => outcome.status === 'rejected' || !outcome.value);
    if (refused >= 0) {
      await Promise.all(checks.filter((_, i) => outcomes[i]?.status === 'fulfilled' && outcomes[i].value).map((check) => check.undo().catch(() => undefined)));
      const failure = outcomes[refused];
      throw failure?.status === 'rejected' ? failure.reason : checks[refused]!.refusal;
    }
    return { ...(reserved > 0 ? { tokenKey } : {}), reservedTokens: reserved, windowExpiry, slotId, slots: slotKeys.map((slot) => slot.key) };
  }

  /**
   * Counts one request toward requests per minute, or refuses it (a resume takes no slot and
   * reserves no tokens). Returns what gives the count back, for a request that then cannot happen.
   */
  async countRequest(subject: Subject): Promise<() => Promise<void>> {
    const { requestsPerMinute } = this.limits;
    if (requestsPerMinute === 0) return () => Promise.resolve();
    const nowMs = this.now();
    const { window, windowEnd, windowExpiry } = windowAt(nowMs);
    const key = `rpm:${subjectKey(subject)}:${window}`;
    const { ok } = await this.counters.tryAdd(key, 1, requestsPerMinute, windowExpiry);
    if (!ok) throw new GatewayError('rate_limited', `Rate limit reached: ${requestsPerMinute} requests per minute.`, { retryable: true, retryAfterMs: windowEnd - nowMs });
    return () => this.counters.release(key, 1);
  }

  /** Gives back the ticket's slots and settles its token reservation to `usedTokens`. */
  async settle(ticket: AdmissionTicket, usedTokens: number): Promise<void> {
    const { tokenKey, reservedTokens, windowExpiry } = ticket;
    const tokens = async (): Promise<void> => {
      if (tokenKey === undefined || reservedTokens === 0) return;
      if (usedTokens < reservedTokens) await this.counters.release(tokenKey, reservedTokens - usedTokens);
      else if (usedTokens > reservedTokens) await this.counters.tryAdd(tokenKey, usedTokens - reservedTokens, Number.MAX_SAFE_INTEGER, windowExpiry);
    };
    await Promise.all([tokens(), ...ticket.slots.map((key) => this.counters.releaseSlot(key, ticket.slotId))]);
  }
}
