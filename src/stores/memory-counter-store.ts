import type { CounterStore, FieldAdd } from './counter-store';

/** Where a counter's field lives in the map: the key itself for the default field. */
function fieldKey(key: string, field: string): string {
  return field === 'v' ? key : `${key}#${field}`;
}
import { TtlMap } from './memory-ttl-map';

/** The in-memory CounterStore: atomic because Node runs one callback at a time. */
export class MemoryCounterStore implements CounterStore {
  private readonly counters: TtlMap<number>;
  /** key → slotId → expiry (epoch ms). */
  private readonly slots = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {
    this.counters = new TtlMap(now);
  }

  tryAdd(key: string, amount: number, limit: number, expiresAt: number): Promise<{ ok: boolean; value: number }> {
    const value = this.counters.get(key) ?? 0;
    if (value + amount > limit) return Promise.resolve({ ok: false, value });
    this.counters.set(key, value + amount, expiresAt * 1000);
    return Promise.resolve({ ok: true, value: value + amount });
  }

  tryAddEach(key: string, adds: readonly FieldAdd[], expiresAt: number): ReturnType<CounterStore['tryAddEach']> {
    const refused = adds.find(({ field, amount, limit }) => (this.counters.get(fieldKey(key, field)) ?? 0) + amount > limit);
    if (refused) return Promise.resolve({ ok: false, refused: refused.field });
    for (const { field, amount } of adds) {
      const at = fieldKey(key, field);
      this.counters.set(at, (this.counters.get(at) ?? 0) + amount, expiresAt * 1000);
    }
    return Promise.resolve({ ok: true });
  }

  release(key: string, amount: number, field = 'v'): Promise<void> {
    const at = fieldKey(key, field);
    const value = this.counters.get(at);
    if (value !== undefined) this.counters.set(at, Math.max(0, value - amount), this.counters.expiresAt(at) ?? 0);
    return Promise.resolve();
  }

  acquireSlot(key: string, slotId: string, limit: number, expiresAt: number): Promise<boolean> {
    const held = this.liveSlots(key);
    if (!held.has(slotId) && held.size >= limit) return Promise.resolve(false);
    held.set(slotId, expiresAt * 1000);
    this.slots.set(key, held);
    return Promise.resolve(true);
  }

  /** Nothing to prepare in memory: a set is made on its first slot. */
  openSlots(): Promise<void> {
    return Promise.resolve();
  }

  releaseSlot(key: string, slotId: string): Promise<void> {
    const held = this.slots.get(key);
    held?.delete(slotId);
    if (held?.size === 0) this.slots.delete(key);
    return Promise.resolve();
  }

  /**
   * What is held under keys starting with `prefix`: the sum of live counters plus the number of
   * live slots (tests and leak checks).
   */
  total(prefix: string): number {
    const counted = this.counters.keysWithPrefix(prefix).reduce((sum, key) => sum + (this.counters.get(key) ?? 0), 0);
    const slotted = [...this.slots.keys()].filter((key) => key.startsWith(prefix)).reduce((sum, key) => sum + this.liveSlots(key).size, 0);
    return counted + slotted;
  }

  /** The live slots of a key, with expired ones dropped (as DynamoDB readers ignore them). */
  private liveSlots(key: string): Map<string, number> {
    const held = this.slots.get(key) ?? new Map<string, number>();
    const now = this.now();
    for (const [slotId, expiresAtMs] of held) if (expiresAtMs <= now) held.delete(slotId);
    if (held.size === 0) this.slots.delete(key);
    return held;
  }
}
