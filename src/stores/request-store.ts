/**
 * Shared state of chat requests, keyed by (connectionId, requestId). Keying by the connection is
 * what keeps one client from touching another client's requests.
 *
 * A request lives through `queued` (the route handler accepted it and put a job on the queue)
 * and `running` (a worker claimed that job) and is deleted when its generation ends. The
 * record is what makes the queue's at-least-once delivery harmless: only the worker whose
 * conditional claim succeeds streams the answer, so a redelivered job never streams it twice.
 * Because the state is shared, a cancel received by one invocation reaches a generation running
 * in another: the generation polls `isCancelled`.
 */
export interface RequestStore {
  /**
   * Records a new request as queued for job `jobId`. Returns false if this connection already
   * has a live request with that requestId.
   */
  begin(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey?: string): Promise<boolean>;
  /**
   * Claims the queued request for job `jobId` until `leaseUntilMs` (when the claiming worker's
   * invocation times out at the latest). See {@link Claim} for the outcomes.
   */
  claim(connectionId: string, requestId: string, jobId: string, leaseUntilMs: number): Promise<Claim>;
  /**
   * Sets the cancel flag (seen by the worker's claim of a queued job). Returns the request's
   * stream key (what a running generation watches), or undefined if no such request is live on
   * this connection.
   */
  requestCancel(connectionId: string, requestId: string): Promise<{ readonly streamKey: string | undefined } | undefined>;
  /** Sets the cancel flag on every live request of a connection (used on $disconnect). */
  cancelAll(connectionId: string): Promise<void>;
  isCancelled(connectionId: string, requestId: string): Promise<boolean>;
  /** Whether this connection has a live (queued or running) request with that requestId. */
  isLive(connectionId: string, requestId: string): Promise<boolean>;
  /** Removes the record of job `jobId` once its generation has ended, however it ended. */
  end(connectionId: string, requestId: string, jobId: string): Promise<void>;
}

/**
 * - `claimed`: this worker owns the generation; `cancelled` tells if a cancel came first.
 * - `interrupted`: a worker claimed it before and its lease ran out without an end (the
 *   invocation crashed or timed out mid-answer). This worker now owns the record, to tell the
 *   client and clean up; it must not stream again.
 * - `duplicate`: nothing to do — another live worker runs it, or it already ended (the record is
 *   gone or belongs to a newer request reusing the requestId).
 */
export type Claim =
  | { readonly outcome: 'claimed'; readonly cancelled: boolean }
  | { readonly outcome: 'interrupted' }
  | { readonly outcome: 'duplicate' };
