/**
 * Which request ids each connection holds, keyed by (connectionId, requestId). Keying by the
 * connection is what keeps one client from touching another client's requests: a requestId runs
 * once at a time per connection, and `llm/cancel` reaches only a request this connection holds.
 *
 * A record is written when a connection takes a request — by sending it, or by resuming it — and
 * removed when the request ends or moves to another connection. It names the request's job and
 * its stream; the job's own state (claimed, leased, cancelled) lives on the stream, so it does
 * not depend on which connection the answer goes to (see StreamStore).
 */
export interface RequestStore {
  /**
   * Records that this connection holds `requestId` for job `jobId`. Returns false if the
   * connection already holds a live record under that requestId (of this job or another).
   */
  begin(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey?: string): Promise<boolean>;
  /** The live record this connection holds under `requestId`, if any. */
  held(connectionId: string, requestId: string): Promise<HeldRequest | undefined>;
  /** Every live record of one connection (used on $disconnect). */
  heldBy(connectionId: string): Promise<HeldRequest[]>;
  /**
   * Makes sure this connection holds `requestId` for job `jobId`, taken at stream version
   * `version`: writes the record unless another job holds the id here (then false). A resume
   * calls it once it has moved the stream here, so that a worker which, following an older resume,
   * removed this connection's record meanwhile cannot leave it receiving an answer it does not hold.
   */
  hold(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey: string, version: number): Promise<boolean>;
  /**
   * Removes this connection's record of job `jobId` (a newer request reusing the id is left
   * alone) — with `beforeVersion`, only a record taken before that stream version: a connection
   * that took the request again since keeps it.
   */
  end(connectionId: string, requestId: string, jobId: string, beforeVersion?: number): Promise<void>;
}

/** A request a connection holds: its job and, for a request with a resumable answer, its stream. */
export interface HeldRequest {
  readonly requestId: string;
  readonly jobId: string;
  readonly streamKey: string | undefined;
}
