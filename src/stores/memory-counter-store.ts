import type { CounterStore } from './counter-store';
import { TtlMap } from './memory-ttl-map';

/** The in-memory CounterStore: atomic because Node runs one callback at a time. */
export class MemoryCounterStore implements CounterStore {
  private readonly counters: TtlMap<number>;

  constructor(now: () => number = Date.now) {
    this.counters = new TtlMap(now);
  }

  tryAdd(key: string, amount: number, limit: number, expiresAt: number): Promise<{ ok: boolean; value: number }> {
    const value = this.counters.get(key) ?? 0;
    if (value + amount > limit) return Promise.resolve({ ok: false, value });
    this.counters.set(key, value + amount, expiresAt * 1000);
    return Promise.resolve({ ok: true, value: value + amount });
  }

  release(key: string, amount: number): Promise<void> {
    const value = this.counters.get(key);
    if (value !== undefined) this.counters.set(key, Math.max(0, value - amount), this.expiryOf(key));
    return Promise.resolve();
  }

  /** The sum of the live counters whose key starts with `prefix` (tests and leak checks). */
  total(prefix: string): number {
    return this.counters.keysWithPrefix(prefix).reduce((sum, key) => sum + (this.counters.get(key) ?? 0), 0);
  }

  private expiryOf(key: string): number {
    return this.counters.expiresAt(key) ?? 0;
  }
}
