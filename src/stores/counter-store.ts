/** One value of a counter to add to, and the most it may then hold. */
export interface FieldAdd {
  readonly field: string;
  readonly amount: number;
  readonly limit: number;
}


/** What taking a slot found: whether it was taken, and which other holders are still pending. */
export interface SlotTake {
  readonly taken: boolean;
  /** The set's other live holders not yet confirmed (an admission in flight may still give them back). */
  readonly pending: readonly PendingSlot[];
}

/** What marks a write as part of an admission in flight: its id and when the admission began (epoch ms). */
export interface PendingMark {
  readonly id: string;
  readonly since: number;
}

/** A pending add on a counter: whose, since when, and how much of each field it holds. */
export interface PendingAdd extends PendingMark {
  readonly amounts: Readonly<Record<string, number>>;
}

/** A slot taken by an admission that has not confirmed it yet (its slot id), and since when. */
export type PendingSlot = PendingMark;

/** The answer of `tryAddEach`. */
export type AddOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly refused: string;
      /** The counter's values when refused (0 for a field it does not hold). */
      readonly values: Readonly<Record<string, number>>;
      /** Other admissions' adds still pending on it. */
      readonly pending: readonly PendingAdd[];
    };

/** The live holders of a slot set. */
export interface SlotHolders {
  readonly held: readonly string[];
  readonly pending: readonly PendingSlot[];
}

/**
 * Shared state for limits, in two shapes:
 *
 * - **Counters** (requests and tokens per window): a number with an expiry (epoch seconds) set
 *   by the window; a counter past it counts as 0, whether or not it was deleted yet.
 * - **Slots** (answers in flight, connections per user): a set of named holders under one key,
 *   each with an expiry of its own. A slot that is never released (a crashed worker, a lost
 *   `$disconnect`) frees itself when *its* expiry passes, however busy the key stays: taking a
 *   new slot never extends an old one.
 */
export interface CounterStore {
  /**
   * Adds `amount` unless the result would exceed `limit` (so an amount above the limit never
   * fits, not even on a fresh counter). The window's expiry is set on success.
   */
  tryAdd(key: string, amount: number, limit: number, expiresAt: number): Promise<{ ok: boolean; value: number }>;
  /**
   * Adds each amount to its field of one counter unless any would exceed its limit: all or none,
   * in one atomic write. A refusal names the first field, in the given order, that would, with the
   * counter's values and the reservations still pending on it (read after the refusal). (A
   * counter may hold several named values sharing its expiry; `tryAdd` uses the field `v`.) With
   * `pending`, the add is marked as a reservation in flight, until {@link confirmAdd} or
   * {@link takeBack}.
   */
  tryAddEach(key: string, adds: readonly FieldAdd[], expiresAt: number, pending?: PendingMark): Promise<AddOutcome>;
  /** Marks a pending add as kept for good (its admission went through). */
  confirmAdd(key: string, id: string): Promise<void>;
  /** Undoes pending add `id`: its amounts and its mark, in one write (nothing once the window has passed). */
  takeBack(key: string, adds: ReadonlyArray<Pick<FieldAdd, 'field' | 'amount'>>, id: string): Promise<void>;
  /** The adds pending on a counter now (a consistent read). */
  pendingAdds(key: string): Promise<PendingAdd[]>;
  /** Takes `amount` back from a counter's field (default `v`; never below 0). */
  release(key: string, amount: number, field?: string): Promise<void>;
  /**
   * Takes slot `slotId` under `key` unless `limit` unexpired slots are held there already.
   * Taking a slot one already holds succeeds (with the new expiry). With `pendingSince` (epoch
   * ms) the slot is taken as pending — held like any other, but marked as part of an admission
   * that may still be given back — until {@link confirmSlot}. Either way the answer says which
   * other holders are pending, read in the same write (a refusal is only final once they are not).
   */
  acquireSlot(key: string, slotId: string, limit: number, expiresAt: number, pendingSince?: number): Promise<SlotTake>;
  /** Marks a pending slot as held for good (its admission went through); nothing if not held. */
  confirmSlot(key: string, slotId: string): Promise<void>;
  /** The live holders of `key` now, and which of them are pending (a consistent read). */
  slotHolders(key: string): Promise<SlotHolders>;
  /**
   * Creates an empty slot set under `key` unless one exists, so that the first `acquireSlot`
   * there is one write (a set that does not exist yet costs a read and a second write).
   */
  openSlots(key: string, expiresAt: number): Promise<void>;
  /** Gives slot `slotId` back (pending or not); releasing a slot that is not held does nothing. */
  releaseSlot(key: string, slotId: string): Promise<void>;
}
