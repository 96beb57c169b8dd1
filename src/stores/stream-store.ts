import type { ServerFrame } from '../models/server-frames';

/**
 * The resumable side of an accepted request, shared by the route function and the worker and
 * keyed by a hash of the request's resume token (the token itself is never stored). It holds
 * where the answer goes now, the log of what was sent, and the terminal frame once it ended —
 * so a client that lost its connection can resume on another one, while the answer is still
 * generating (the worker, its single writer, follows `target`) and for a retention time after.
 */
export interface StreamMeta {
  readonly requestId: string;
  readonly jobId: string;
  /** The authenticated user, or undefined for an open gateway (then the token alone suffices). */
  readonly userId: string | undefined;
  readonly mode: 'stream' | 'chat';
  /** The connection the answer goes to now. */
  readonly target: string;
  /**
   * Where each version went: the connection that sent the request, then one entry per resume
   * (version v went to `targets[v]`, so a connection resumed onto twice appears twice).
   */
  readonly targets: readonly string[];
  /** Bumped by every resume; the worker switches target when it sees a newer one. */
  readonly version: number;
  /** The first log index the latest resume asked for. */
  readonly fromSeq: number;
  readonly cancelled: boolean;
  /** Set once the request ended: its terminal frame (done, last response part, or error). */
  readonly terminal: ServerFrame | undefined;
}

/** One frame of a stream's log and its index (a chunk's `seq`, a response part's `part`). */
export interface LoggedFrame {
  readonly index: number;
  readonly frame: ServerFrame;
}

export interface StreamStore {
  /** Records a new stream at `accepted`. */
  open(key: string, meta: Pick<StreamMeta, 'requestId' | 'jobId' | 'userId' | 'mode' | 'target'>, ttlSeconds: number): Promise<void>;
  /**
   * The stream, or undefined when unknown or expired. `consistent: false` may miss the last
   * second's writes, for half the read cost: enough for a watch that reads again soon.
   */
  get(key: string, options?: { readonly consistent: boolean }): Promise<StreamMeta | undefined>;
  /**
   * Points a live stream at another connection, asking for the log from `fromSeq`. Returns the
   * stream as it now is (`moved`), or as it was when it had already ended (`ended`), or `unknown`.
   */
  retarget(key: string, connectionId: string, fromSeq: number): Promise<{ readonly outcome: 'moved' | 'ended'; readonly meta: StreamMeta } | { readonly outcome: 'unknown' }>;
  /**
   * Logs frames the client must be able to get again — a chunk by its `seq`, a response part by
   * its `part` — in one write (a checkpoint: the worker collects a few seconds of frames per
   * write instead of writing each one).
   */
  append(key: string, frames: readonly LoggedFrame[], ttlSeconds: number): Promise<void>;
  /** The logged frames from index `from` on, in order. */
  replay(key: string, from: number): Promise<ServerFrame[]>;
  /**
   * Ends the stream with its terminal frame, kept for `retentionSeconds`, unless a resume came
   * since `version` (then returns false: the caller must deliver to the new target first).
   */
  end(key: string, terminal: ServerFrame, version: number, retentionSeconds: number): Promise<boolean>;
  /**
   * Claims the stream's job for `jobId` until `leaseUntilMs` (when the claiming worker's
   * invocation times out at the latest). See {@link Claim} for the outcomes. The claim lives on
   * the stream, not on a connection's request record, so it holds wherever the answer goes.
   */
  claim(key: string, jobId: string, leaseUntilMs: number): Promise<Claim>;
  /**
   * Sets the cancel flag of a live stream — when `connectionId` is given, only while the stream
   * goes to that connection (a request resumed elsewhere is no longer this connection's to
   * cancel). Returns the stream as it was, or undefined when nothing was cancelled.
   */
  cancel(key: string, connectionId?: string): Promise<StreamMeta | undefined>;
}

/**
 * - `claimed`: this worker owns the generation; `meta` is the stream as claimed (read in the same
 *   write: where the answer goes now, and whether a cancel came first).
 * - `interrupted`: a worker claimed it before and its lease ran out without an end (the
 *   invocation crashed or timed out mid-answer). This worker now owns the stream, to tell the
 *   client and clean up; it must not stream again.
 * - `duplicate`: nothing to do — another live worker runs it, or it already ended (the stream is
 *   gone, has its terminal frame, or belongs to another job).
 */
export type Claim =
  | { readonly outcome: 'claimed'; readonly meta: StreamMeta }
  | { readonly outcome: 'interrupted' }
  | { readonly outcome: 'duplicate' };
