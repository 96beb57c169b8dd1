/**
 * Shared counters for limits (requests per window, generations in flight). Each counter has an
 * expiry (epoch seconds); a counter past it counts as 0, whether or not it was deleted yet — so
 * a generation that crashed without releasing frees its slot when its counter expires.
 */
export interface CounterStore {
  /** Adds `amount` unless the result would exceed `limit`; refreshes the expiry on success. */
  tryAdd(key: string, amount: number, limit: number, expiresAt: number): Promise<{ ok: boolean; value: number }>;
  /** Takes `amount` back (never below 0). */
  release(key: string, amount: number): Promise<void>;
}
