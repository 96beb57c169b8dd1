import type { AddOutcome, FieldAdd, PendingAdd } from '../counter-store';

/* How a counter item reads: which add it refuses, and the pending adds marked on it. */

/** The first field, in order, that the adds would take past its limit on this item. */
export function refusalOf(item: Record<string, unknown> | undefined, adds: readonly FieldAdd[]): string | undefined {
  return adds.find(({ field, amount, limit }) => Number(item?.[field] ?? 0) + amount > limit)?.field;
}

/** The attribute that marks a pending add on a counter item. */
export const markName = (id: string): string => `p_${id}`;

/** The pending adds marked on a counter item. */
export function marksOf(item: Record<string, unknown>): PendingAdd[] {
  return Object.entries(item)
    .filter(([name]) => name.startsWith('p_'))
    .map(([name, mark]) => {
      const { s: since, a: amounts } = mark as { s: number; a: Record<string, number> };
      return { id: name.slice(2), since: Number(since), amounts: Object.fromEntries(Object.entries(amounts).map(([field, amount]) => [field, Number(amount)])) };
    });
}

/** A refusal read off the counter item as it is (undefined: the counter counts 0). */
export function refusedBy(item: Record<string, unknown> | undefined, adds: readonly FieldAdd[]): AddOutcome {
  return {
    ok: false,
    refused: refusalOf(item, adds) ?? adds[0]?.field ?? '',
    values: Object.fromEntries(adds.map(({ field }) => [field, Number(item?.[field] ?? 0)])),
    pending: item === undefined ? [] : marksOf(item),
  };
}

