import type { GatewayError } from '../models/errors';
import type { AddOutcome, CounterStore, FieldAdd, SlotTake } from '../stores/counter-store';
import { before, PENDING_STALE_MS, settled, type Blocker } from './admissions-in-flight';

/** A slot set an admission takes a slot in, with its limit and how a refusal names it. */
export interface SlotSet {
  readonly key: string;
  readonly limit: number;
  readonly scope: string;
}

/** Everything one admission takes, and how its refusals read. */
export interface AdmissionPlan {
  /** The admission's id: the name of its slots and of its counter mark (the request's jobId). */
  readonly id: string;
  /** When it began (epoch ms): its place in the order of admissions, and its marks' time. */
  readonly since: number;
  readonly slotSets: readonly SlotSet[];
  readonly slotExpiry: number;
  readonly counter: { readonly key: string; readonly adds: readonly FieldAdd[]; readonly expiresAt: number } | undefined;
  readonly full: (set: SlotSet) => GatewayError;
  readonly over: (field: string) => GatewayError;
}

export interface AdmissionClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

/** The most an admission goes on meeting admissions in flight before its refusal stands anyway. */
const MAX_ADMISSION_MS = 8000;
/** The most a yielding admission waits before its next round (a random part of it). */
const RETRY_JITTER_MS = 30;
const COUNTER = '#counter';

type Refusal = { readonly error: GatewayError; readonly blockers: readonly Blocker[] };

/**
 * Takes everything `plan` asks for — a slot in each set and the counter's adds — side by side, in
 * one round trip, each part pending (marked with the admission's id) until the caller confirms
 * it. Resolves once all is held; rejects with the refusal, after giving back what it took.
 *
 * Side by side, a request refused on one limit holds the others for a moment, and another
 * admission that meets those holdings must not be refused for them. So a refusal stands only
 * when it is certain: a slot set full with no pending holder, a counter over its limit even
 * without the adds still pending on it. Otherwise the admissions in flight are waited for
 * ({@link settled}), in the order they began: the oldest keeps what it took and waits for the
 * younger ones it met to confirm or give back; a younger one gives back everything first and
 * tries again after the older ones. The oldest never yields, so some admission always moves
 * on: none waits on another forever, and none is refused by a holding that is then undone.
 */
export async function admitAll(counters: CounterStore, plan: AdmissionPlan, clock: AdmissionClock): Promise<void> {
  const held = new Set<string>();
  const undo = async (): Promise<void> => {
    const parts = [...held];
    held.clear();
    await Promise.all(
      parts.map((part) =>
        (part === COUNTER ? counters.takeBack(plan.counter!.key, plan.counter!.adds, plan.id) : counters.releaseSlot(part, plan.id)).catch(() => undefined),
      ),
    );
  };
  for (;;) {
    const missing = plan.slotSets.filter((set) => !held.has(set.key));
    const counter = plan.counter !== undefined && !held.has(COUNTER) ? plan.counter : undefined;
    const [takes, added] = await Promise.all([
      Promise.allSettled(missing.map((set) => counters.acquireSlot(set.key, plan.id, set.limit, plan.slotExpiry, plan.since))),
      counter === undefined ? undefined : counters.tryAddEach(counter.key, counter.adds, counter.expiresAt, { id: plan.id, since: plan.since }).then(
        (outcome) => ({ status: 'fulfilled' as const, value: outcome }),
        (reason: unknown) => ({ status: 'rejected' as const, reason }),
      ),
    ]);
    takes.forEach((take, i) => take.status === 'fulfilled' && take.value.taken && held.add(missing[i]!.key));
    if (added?.status === 'fulfilled' && added.value.ok) held.add(COUNTER);
    const failed = [...takes, ...(added ? [added] : [])].find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed !== undefined) {
      await undo();
      throw failed.reason;
    }
    const refusals = refusalsOf(plan, missing, takes as Array<PromiseFulfilledResult<SlotTake>>, added?.status === 'fulfilled' ? added.value : undefined, clock.now());
    if (refusals.length === 0) return;
    const certain = refusals.find((r) => r.blockers.length === 0);
    if (certain !== undefined || clock.now() - plan.since > MAX_ADMISSION_MS) {
      await undo();
      throw (certain ?? refusals[0]!).error;
    }
    const blockers = refusals.flatMap((r) => r.blockers);
    const oldest = blockers.every((b) => before(plan, b));
    if (!oldest) await undo();
    if (await settled(counters, blockers, clock.now, clock.sleep)) {
      // Every admission that stood in the way went through: the refusal is now certain.
      await undo();
      throw refusals[0]!.error;
    }
    if (!oldest) await clock.sleep(Math.floor(clock.random() * RETRY_JITTER_MS));
  }
}

/** The refusals of one round, in the order they are named (concurrency, then the counter), each with the admissions in flight that may lift it. */
function refusalsOf(plan: AdmissionPlan, sets: readonly SlotSet[], takes: ReadonlyArray<PromiseFulfilledResult<SlotTake>>, added: AddOutcome | undefined, nowMs: number): Refusal[] {
  const live = <T extends { readonly since: number }>(marks: readonly T[]): T[] => marks.filter((m) => nowMs - m.since < PENDING_STALE_MS);
  const refusals: Refusal[] = [];
  takes.forEach(({ value }, i) => {
    const set = sets[i]!;
    if (!value.taken) refusals.push({ error: plan.full(set), blockers: live(value.pending).map((p) => ({ ...p, kind: 'slot', key: set.key })) });
  });
  if (added !== undefined && !added.ok && plan.counter !== undefined) {
    const { key, adds } = plan.counter;
    const others = live(added.pending).filter((p) => p.id !== plan.id);
    // Certain when it would not fit even with every pending add of another admission given back.
    const liftable = adds.every(({ field, amount, limit }) => (added.values[field] ?? 0) - others.reduce((sum, p) => sum + (p.amounts[field] ?? 0), 0) + amount <= limit);
    refusals.push({ error: plan.over(added.refused), blockers: liftable ? others.map((p) => ({ id: p.id, since: p.since, kind: 'counter', key })) : [] });
  }
  return refusals;
}
