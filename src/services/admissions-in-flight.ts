import type { CounterStore, PendingMark } from '../stores/counter-store';

/**
 * How long an admission may take from its first write to confirming or giving back what it took
 * (a few round trips, with the SDK's retries): a mark older than this belongs to an admission
 * that died mid-way, and what it holds counts as held until it expires.
 */
export const PENDING_STALE_MS = 5000;

/** The first wait between reads of what is in flight, doubled each time up to the next. */
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 160;

/** An admission in flight that a refused one met: its mark on a slot set or on a counter. */
export interface Blocker extends PendingMark {
  readonly kind: 'slot' | 'counter';
  readonly key: string;
}

/** Whether `a` began before `b` (ties broken by id): the order in which admissions yield. */
export function before(a: PendingMark, b: PendingMark): boolean {
  return a.since < b.since || (a.since === b.since && a.id < b.id);
}

/**
 * Waits until none of `blockers` is pending any more — each confirmed, given back, or stale —
 * reading their sets and counters again at a growing interval. Returns true when every slot
 * blocker ended confirmed (still held, no longer pending) and none was a counter's: then a
 * refusal they caused stands. Otherwise something may have been given back, and the refused
 * admission should try again.
 */
export async function settled(counters: CounterStore, blockers: readonly Blocker[], now: () => number, sleep: (ms: number) => Promise<void>): Promise<boolean> {
  let waiting = [...blockers];
  let allKept = blockers.every((b) => b.kind === 'slot');
  const staleAt = Math.max(...blockers.map((b) => b.since)) + PENDING_STALE_MS;
  for (let wait = FIRST_POLL_MS; waiting.length > 0 && now() < staleAt; wait = Math.min(MAX_POLL_MS, wait * 2)) {
    await sleep(wait);
    const keys = [...new Set(waiting.map((b) => `${b.kind}\u0000${b.key}`))];
    // What each set or counter holds now: its pending marks, and a set's holders.
    const reads = new Map<string, { readonly held: readonly string[] | undefined; readonly pending: readonly string[] }>();
    await Promise.all(
      keys.map(async (entry) => {
        const [kind, key] = entry.split('\u0000') as ['slot' | 'counter', string];
        if (kind === 'counter') {
          reads.set(entry, { held: undefined, pending: (await counters.pendingAdds(key)).map((p) => p.id) });
        } else {
          const holders = await counters.slotHolders(key);
          reads.set(entry, { held: holders.held, pending: holders.pending.map((p) => p.id) });
        }
      }),
    );
    waiting = waiting.filter((b) => {
      const read = reads.get(`${b.kind}\u0000${b.key}`)!;
      if (read.pending.includes(b.id)) return true;
      if (read.held !== undefined && !read.held.includes(b.id)) allKept = false;
      return false;
    });
  }
  return allKept;
}
