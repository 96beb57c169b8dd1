import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { GatewayError } from '../models/errors';
import type { CounterStore } from '../stores/counter-store';
import { admitAll, type AdmissionPlan } from './admission';

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
  /** The per-minute counter the reservation was added to (its value `t`); absent when tokens are unlimited. */
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

/** An admitted request: what it holds, and what marks its holdings as kept (once it is accepted). */
export interface Admitted {
  readonly ticket: AdmissionTicket;
  readonly confirm: () => Promise<void>;
}

/** The fixed one-minute window of a moment: its number, its end (ms) and its counters' expiry (s). */
function windowAt(nowMs: number): { window: number; windowEnd: number; windowExpiry: number } {
  const window = Math.floor(nowMs / 60_000);
  const windowEnd = (window + 1) * 60_000;
  return { window, windowEnd, windowExpiry: windowEnd / 1000 + 60 };
}

/** The slot sets a subject's answers in flight are held in: its connection's and its user's (or IP's), each with its limit. */
export function slotSetsOf(
  subject: Subject,
  limits: Pick<AppConfig['limits'], 'concurrentPerConnection' | 'concurrentPerUser'>,
): Array<{ readonly key: string; readonly limit: number; readonly scope: string }> {
  return [
    { key: `conc:conn:${subject.connectionId}`, limit: limits.concurrentPerConnection, scope: 'on this connection' },
    { key: `conc:${subjectKey(subject)}`, limit: limits.concurrentPerUser, scope: 'for this user' },
  ].filter((slot) => slot.limit > 0);
}

/** The counter of one caller's one-minute window: requests in `r`, tokens in `t`. */
function windowKeyOf(who: string, window: number): string {
  return `win:${who}:${window}`;
}

const REQUESTS = 'r';
const TOKENS = 't';

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
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Admits a request that may use up to `reservedTokens` (prompt estimate plus maxTokens),
   * holding its concurrency slots under the name `slotId`. Every limit is checked at once — one
   * round trip, three writes — each slot set and the window's counter by its own atomic
   * conditional write, so together they can never admit more than any one allows; a refusal is
   * never caused by what another admission holds only for a moment (see {@link admitAll}). What
   * a refused request took is given back before the refusal is thrown; the refusal named is the
   * first certain one in this order: concurrency, requests, tokens. The admission's holdings stay
   * pending until `confirm` (call it once the request is accepted).
   */
  async admit(subject: Subject, reservedTokens: number, slotId: string): Promise<Admitted> {
    const nowMs = this.now();
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    if (tokensPerMinute > 0 && reservedTokens > tokensPerMinute) {
      // No wait would ever let it through: say so instead of inviting a retry.
      throw new GatewayError(
        'invalid_request',
        `Invalid request: it may use up to ${reservedTokens} tokens (prompt estimate plus maxTokens), more than the ` +
          `${tokensPerMinute} tokens per minute allowed. Shorten the conversation or lower data.inferenceConfig.maxTokens.`,
      );
    }
    const { window, windowEnd, windowExpiry } = windowAt(nowMs);
    const windowKey = windowKeyOf(subjectKey(subject), window);
    const reserved = tokensPerMinute > 0 ? reservedTokens : 0;
    // Requests and tokens per minute: two values of the window's one counter, added together or
    // not at all. Tokens: the worst case is reserved now and settled to the real usage when the
    // answer ends, so concurrent streams cannot together overshoot the budget.
    const adds = [
      ...(requestsPerMinute > 0 ? [{ field: REQUESTS, amount: 1, limit: requestsPerMinute }] : []),
      ...(reserved > 0 ? [{ field: TOKENS, amount: reserved, limit: tokensPerMinute }] : []),
    ];
    const slotSets = slotSetsOf(subject, this.limits);
    const plan: AdmissionPlan = {
      id: slotId,
      since: nowMs,
      slotSets,
      slotExpiry: Math.floor(nowMs / 1000) + this.slotTtlSeconds,
      counter: adds.length > 0 ? { key: windowKey, adds, expiresAt: windowExpiry } : undefined,
      full: ({ limit, scope }) => new GatewayError('rate_limited', `At most ${limit} answers may run at once ${scope}.`, { retryable: true, retryAfterMs: CONCURRENCY_RETRY_MS }),
      over: (field) =>
        new GatewayError('rate_limited', `Rate limit reached: ${field === REQUESTS ? `${requestsPerMinute} requests` : `${tokensPerMinute} tokens`} per minute.`, {
          retryable: true,
          retryAfterMs: windowEnd - this.now(),
        }),
    };
    await admitAll(this.counters, plan, { now: this.now, sleep: this.sleep, random: this.random });
    const ticket: AdmissionTicket = { ...(reserved > 0 ? { tokenKey: windowKey } : {}), reservedTokens: reserved, windowExpiry, slotId, slots: slotSets.map((set) => set.key) };
    const confirm = async (): Promise<void> => {
      await Promise.all([...slotSets.map(({ key }) => this.counters.confirmSlot(key, slotId)), ...(adds.length > 0 ? [this.counters.confirmAdd(windowKey, slotId)] : [])]);
    };
    return { ticket, confirm };
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
    const key = windowKeyOf(subjectKey(subject), window);
    const id = `resume-${randomUUID()}`;
    // The same admission as a request's, with no slot: never refused by an add that is then undone.
    await admitAll(
      this.counters,
      {
        id,
        since: nowMs,
        slotSets: [],
        slotExpiry: 0,
        counter: { key, adds: [{ field: REQUESTS, amount: 1, limit: requestsPerMinute }], expiresAt: windowExpiry },
        full: () => new GatewayError('internal_error', 'A resume takes no slot.'),
        over: () => new GatewayError('rate_limited', `Rate limit reached: ${requestsPerMinute} requests per minute.`, { retryable: true, retryAfterMs: windowEnd - this.now() }),
      },
      { now: this.now, sleep: this.sleep, random: this.random },
    );
    await this.counters.confirmAdd(key, id).catch(() => undefined);
    return () => this.counters.release(key, 1, REQUESTS);
  }

  /**
   * Reserves `extraTokens` more for an admitted request whose prompt turned out larger than its
   * estimate (documents counted by their real size once read), in the window it was admitted
   * in, or refuses it as the admission would have. Returns the ticket that settles the larger
   * reservation. Once that window has ended, nothing is added: a new window counts only what is
   * admitted in it, and the real usage settles the old one.
   */
  async reserveMore<T extends AdmissionTicket>(ticket: T, extraTokens: number): Promise<T> {
    const { tokenKey, windowExpiry } = ticket;
    const { tokensPerMinute } = this.limits;
    const windowEnd = (windowExpiry - 60) * 1000;
    if (extraTokens <= 0 || tokenKey === undefined || tokenKey.startsWith('tpm:')) return ticket;
    if (ticket.reservedTokens + extraTokens > tokensPerMinute) {
      // No wait would ever let it through, as at the admission.
      throw new GatewayError(
        'invalid_request',
        `Invalid request: with its attachments read, it may use up to ${ticket.reservedTokens + extraTokens} tokens (prompt estimate plus maxTokens), more than the ` +
          `${tokensPerMinute} tokens per minute allowed. Send smaller documents or fewer at a time.`,
      );
    }
    if (this.now() >= windowEnd) return ticket;
    const added = await this.counters.tryAddEach(tokenKey, [{ field: TOKENS, amount: extraTokens, limit: tokensPerMinute }], windowExpiry);
    if (!added.ok) {
      throw new GatewayError('rate_limited', `Rate limit reached: ${tokensPerMinute} tokens per minute (the attachments hold more text than was reserved for them).`, {
        retryable: true,
        retryAfterMs: windowEnd - this.now(),
      });
    }
    return { ...ticket, reservedTokens: ticket.reservedTokens + extraTokens };
  }

  /** Gives back the ticket's slots and settles its token reservation to `usedTokens`. */
  async settle(ticket: AdmissionTicket, usedTokens: number): Promise<void> {
    const { tokenKey, reservedTokens, windowExpiry } = ticket;
    // A ticket of the previous version (mid-deploy) names a counter of its own, its value `v`.
    const field = tokenKey?.startsWith('tpm:') === true ? 'v' : TOKENS;
    const tokens = async (): Promise<void> => {
      if (tokenKey === undefined || reservedTokens === 0) return;
      if (usedTokens < reservedTokens) await this.counters.release(tokenKey, reservedTokens - usedTokens, field);
      else if (usedTokens > reservedTokens) await this.counters.tryAddEach(tokenKey, [{ field, amount: usedTokens - reservedTokens, limit: Number.MAX_SAFE_INTEGER }], windowExpiry);
    };
    await Promise.all([tokens(), ...ticket.slots.map((key) => this.counters.releaseSlot(key, ticket.slotId))]);
  }
}
