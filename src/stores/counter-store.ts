/** One value of a counter to add to, and the most it may then hold. */
export interface FieldAdd {
  readonly field: string;
  readonly amount: number;
  readonly limit: number;
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
   * in one atomic write. A refusal names the first field, in the given order, that would. (A
   * counter may hold several named values sharing its expiry; `tryAdd` uses the field `v`.)
   */
  tryAddEach(key: string, adds: readonly FieldAdd[], expiresAt: number): Promise<{ readonly ok: true } | { readonly ok: false; readonly refused: string }>;
  /** Takes `amount` back from a counter's field (default `v`; never below 0). */
  release(key: string, amount: number, field?: string): Promise<void>;
  /**
   * Takes slot `slotId` under `key` unless `limit` unexpired slots are held there already.
   * Taking a slot one already holds succeeds (with the new expiry).
   */
  acquireSlot(key: string, slotId: string, limit: number, expiresAt: number): Promise<boolean>;
  /**
   * Creates an empty slot set under `key` unless one exists, so that the first `acquireSlot`
   * there is one write (a set that does not exist yet costs a read and a second write).
   */
  openSlots(key: string, expiresAt: number): Promise<void>;
  /** Gives slot `slotId` back; releasing a slot that is not held does nothing. */
  releaseSlot(key: string, slotId: string): Promise<void>;
}
