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
  /** The concurrency counters holding one slot each. */
  readonly slots: readonly string[];
}

/** How long to suggest waiting when a concurrency slot is taken (a generation takes seconds). */
const CONCURRENCY_RETRY_MS = 1000;

/**
 * Per-user limits on chat requests, checked before any model call: requests and tokens per
 * minute (fixed one-minute windows), and generations in flight per connection and per user. The counters live
 * in the shared CounterStore, so every Lambda instance sees the same totals. Anonymous callers
 * are limited by source IP.
 */
export class RateLimiter {
  constructor(
    private readonly counters: CounterStore,
    private readonly limits: AppConfig['limits'],
    private readonly slotTtlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits a request that may use up to `reservedTokens` (prompt estimate plus maxTokens). */
  async admit(subject: Subject, reservedTokens: number): Promise<AdmissionTicket> {
    const who = subject.userId !== undefined ? `user:${subject.userId}` : `ip:${subject.sourceIp}`;
    const nowMs = this.now();
    const { requestsPerMinute, tokensPerMinute, concurrentPerConnection, concurrentPerUser } = this.limits;
    const window = Math.floor(nowMs / 60_000);
    const windowEnd = (window + 1) * 60_000;
    const windowExpiry = windowEnd / 1000 + 60;
    const overLimit = (what: string): GatewayError =>
      new GatewayError('rate_limited', `Rate limit reached: ${what} per minute.`, { retryable: true, retryAfterMs: windowEnd - nowMs });

    if (requestsPerMinute > 0) {
      const { ok } = await this.counters.tryAdd(`rpm:${who}:${window}`, 1, requestsPerMinute, windowExpiry);
      if (!ok) throw overLimit(`${requestsPerMinute} requests`);
    }
    // Tokens: reserve the worst case now, settle to the real usage when the answer ends, so
    // concurrent streams cannot together overshoot the budget.
    const tokenKey = `tpm:${who}:${window}`;
    const reserved = tokensPerMinute > 0 ? reservedTokens : 0;
    if (reserved > 0) {
      const { ok } = await this.counters.tryAdd(tokenKey, reserved, tokensPerMinute, windowExpiry);
      if (!ok) throw overLimit(`${tokensPerMinute} tokens`);
    }
    const ticket = (slots: readonly string[]): AdmissionTicket => ({
      ...(reserved > 0 ? { tokenKey } : {}),
      reservedTokens: reserved,
      windowExpiry,
      slots,
    });

    const slotExpiry = Math.floor(nowMs / 1000) + this.slotTtlSeconds;
    const taken: string[] = [];
    const slots: Array<[string, number, string]> = [
      [`conc:conn:${subject.connectionId}`, concurrentPerConnection, 'on this connection'],
      [`conc:${who}`, concurrentPerUser, 'for this user'],
    ];
    for (const [key, limit, scope] of slots) {
      if (limit === 0) continue;
      const { ok } = await this.counters.tryAdd(key, 1, limit, slotExpiry);
      if (!ok) {
        await this.settle(ticket(taken), 0);
        throw new GatewayError('rate_limited', `At most ${limit} answers may run at once ${scope}.`, {
          retryable: true,
          retryAfterMs: CONCURRENCY_RETRY_MS,
        });
      }
      taken.push(key);
    }
    return ticket(taken);
  }

  /** Gives back the ticket's slots and settles its token reservation to `usedTokens`. */
  async settle(ticket: AdmissionTicket, usedTokens: number): Promise<void> {
    const { tokenKey, reservedTokens, windowExpiry } = ticket;
    const tokens = async (): Promise<void> => {
      if (tokenKey === undefined || reservedTokens === 0) return;
      if (usedTokens < reservedTokens) await this.counters.release(tokenKey, reservedTokens - usedTokens);
      else if (usedTokens > reservedTokens) await this.counters.tryAdd(tokenKey, usedTokens - reservedTokens, Number.MAX_SAFE_INTEGER, windowExpiry);
    };
    await Promise.all([tokens(), ...ticket.slots.map((key) => this.counters.release(key, 1))]);
  }
}
