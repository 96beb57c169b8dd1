import type { AppConfig } from '../config/config';
import { GatewayError } from '../models/errors';
import type { CounterStore } from '../stores/counter-store';

/** Who a limit applies to: the authenticated user, else the source IP. */
export interface Subject {
  readonly connectionId: string;
  readonly userId: string | undefined;
  readonly sourceIp: string;
}

/** Gives back what an admission took; safe to call once, however the generation ended. */
export type Release = () => Promise<void>;

/** How long to suggest waiting when a concurrency slot is taken (a generation takes seconds). */
const CONCURRENCY_RETRY_MS = 1000;

/**
 * Per-user limits on chat requests, checked before any model call: requests per minute (fixed
 * one-minute windows), and generations in flight per connection and per user. The counters live
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

  async admit(subject: Subject): Promise<Release> {
    const who = subject.userId !== undefined ? `user:${subject.userId}` : `ip:${subject.sourceIp}`;
    const nowMs = this.now();
    const { requestsPerMinute, concurrentPerConnection, concurrentPerUser } = this.limits;

    if (requestsPerMinute > 0) {
      const window = Math.floor(nowMs / 60_000);
      const windowEnd = (window + 1) * 60_000;
      const { ok } = await this.counters.tryAdd(`rpm:${who}:${window}`, 1, requestsPerMinute, windowEnd / 1000 + 60);
      if (!ok) {
        throw new GatewayError('rate_limited', `Rate limit reached: ${requestsPerMinute} requests per minute.`, {
          retryable: true,
          retryAfterMs: windowEnd - nowMs,
        });
      }
    }

    const slotExpiry = Math.floor(nowMs / 1000) + this.slotTtlSeconds;
    const taken: string[] = [];
    const release: Release = async () => {
      await Promise.all(taken.splice(0).map((key) => this.counters.release(key, 1)));
    };
    const slots: Array<[string, number, string]> = [
      [`conc:conn:${subject.connectionId}`, concurrentPerConnection, 'on this connection'],
      [`conc:${who}`, concurrentPerUser, 'for this user'],
    ];
    for (const [key, limit, scope] of slots) {
      if (limit === 0) continue;
      const { ok } = await this.counters.tryAdd(key, 1, limit, slotExpiry);
      if (!ok) {
        await release();
        throw new GatewayError('rate_limited', `At most ${limit} answers may run at once ${scope}.`, {
          retryable: true,
          retryAfterMs: CONCURRENCY_RETRY_MS,
        });
      }
      taken.push(key);
    }
    return release;
  }
}
