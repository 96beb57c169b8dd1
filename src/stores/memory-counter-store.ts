import type { AddOutcome, CounterStore, FieldAdd, PendingAdd, PendingMark, PendingSlot, SlotHolders, SlotTake } from './counter-store';

/** Where a counter's field lives in the map: the key itself for the default field. */
function fieldKey(key: string, field: string): string {
  return field === 'v' ? key : `${key}#${field}`;
}
import { TtlMap } from './memory-ttl-map';

/** The in-memory CounterStore: atomic because Node runs one callback at a time. */
export class MemoryCounterStore implements CounterStore {
  private readonly counters: TtlMap<number>;
  /** counter key → id → the add pending on it; gone with the counter's window. */
  private readonly adds: TtlMap<Map<string, PendingAdd>>;
  /** key → slotId → expiry (epoch ms). */
  private readonly slots = new Map<string, Map<string, number>>();
  /** key → slotId → since when it is pending (epoch ms), for slots not yet confirmed. */
  private readonly pending = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {
    this.counters = new TtlMap(now);
    this.adds = new TtlMap(now);
  }

  tryAdd(key: string, amount: number, limit: number, expiresAt: number): Promise<{ ok: boolean; value: number }> {
    const value = this.counters.get(key) ?? 0;
    if (value + amount > limit) return Promise.resolve({ ok: false, value });
    this.counters.set(key, value + amount, expiresAt * 1000);
    return Promise.resolve({ ok: true, value: value + amount });
  }

  tryAddEach(key: string, adds: readonly FieldAdd[], expiresAt: number, pending?: PendingMark): Promise<AddOutcome> {
    const refused = adds.find(({ field, amount, limit }) => (this.counters.get(fieldKey(key, field)) ?? 0) + amount > limit);
    if (refused) {
      const values = Object.fromEntries(adds.map(({ field }) => [field, this.counters.get(fieldKey(key, field)) ?? 0]));
      return Promise.resolve({ ok: false, refused: refused.field, values, pending: [...(this.adds.get(key)?.values() ?? [])] });
    }
    for (const { field, amount } of adds) {
      const at = fieldKey(key, field);
      this.counters.set(at, (this.counters.get(at) ?? 0) + amount, expiresAt * 1000);
    }
    if (pending !== undefined) {
      const marks = this.adds.get(key) ?? new Map<string, PendingAdd>();
      marks.set(pending.id, { ...pending, amounts: Object.fromEntries(adds.map(({ field, amount }) => [field, amount])) });
      this.adds.set(key, marks, expiresAt * 1000);
    }
    return Promise.resolve({ ok: true });
  }

  confirmAdd(key: string, id: string): Promise<void> {
    this.adds.get(key)?.delete(id);
    return Promise.resolve();
  }

  async takeBack(key: string, adds: ReadonlyArray<Pick<FieldAdd, 'field' | 'amount'>>, id: string): Promise<void> {
    // Only an add still marked is taken back: a second take-back never takes twice.
    if (this.adds.get(key)?.delete(id) !== true) return;
    await Promise.all(adds.map(({ field, amount }) => this.release(key, amount, field)));
  }

  pendingAdds(key: string): Promise<PendingAdd[]> {
    return Promise.resolve([...(this.adds.get(key)?.values() ?? [])]);
  }

  release(key: string, amount: number, field = 'v'): Promise<void> {
    const at = fieldKey(key, field);
    const value = this.counters.get(at);
    if (value !== undefined) this.counters.set(at, Math.max(0, value - amount), this.counters.expiresAt(at) ?? 0);
    return Promise.resolve();
  }

  acquireSlot(key: string, slotId: string, limit: number, expiresAt: number, pendingSince?: number): Promise<SlotTake> {
    const held = this.liveSlots(key);
    const taken = held.has(slotId) || held.size < limit;
    if (taken) {
      held.set(slotId, expiresAt * 1000);
      this.slots.set(key, held);
      const marks = this.pending.get(key) ?? new Map<string, number>();
      if (pendingSince !== undefined) marks.set(slotId, pendingSince);
      else marks.delete(slotId);
      if (marks.size > 0) this.pending.set(key, marks);
    }
    return Promise.resolve({ taken, pending: this.pendingOf(key).filter((p) => p.id !== slotId) });
  }

  confirmSlot(key: string, slotId: string): Promise<void> {
    this.unmark(key, slotId);
    return Promise.resolve();
  }

  slotHolders(key: string): Promise<SlotHolders> {
    return Promise.resolve({ held: [...this.liveSlots(key).keys()], pending: this.pendingOf(key) });
  }

  /** Nothing to prepare in memory: a set is made on its first slot. */
  openSlots(): Promise<void> {
    return Promise.resolve();
  }

  releaseSlot(key: string, slotId: string): Promise<void> {
    const held = this.slots.get(key);
    held?.delete(slotId);
    if (held?.size === 0) this.slots.delete(key);
    this.unmark(key, slotId);
    return Promise.resolve();
  }

  private unmark(key: string, slotId: string): void {
    const marks = this.pending.get(key);
    marks?.delete(slotId);
    if (marks?.size === 0) this.pending.delete(key);
  }

  /** The live holders of `key` still pending. */
  private pendingOf(key: string): PendingSlot[] {
    const held = this.liveSlots(key);
    return [...(this.pending.get(key) ?? new Map<string, number>())].filter(([slotId]) => held.has(slotId)).map(([id, since]) => ({ id, since }));
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
    for (const [slotId, expiresAtMs] of held) {
      if (expiresAtMs > now) continue;
      held.delete(slotId);
      this.unmark(key, slotId);
    }
    if (held.size === 0) this.slots.delete(key);
    return held;
  }
}
