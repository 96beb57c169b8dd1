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
  /** Every connection the request was delivered to (each has a request record to remove at the end). */
  readonly targets: readonly string[];
  /** Bumped by every resume; the worker switches target when it sees a newer one. */
  readonly version: number;
  /** The first log index the latest resume asked for. */
  readonly fromSeq: number;
  readonly cancelled: boolean;
  /** Set once the request ended: its terminal frame (done, last response part, or error). */
  readonly terminal: ServerFrame | undefined;
}

export interface StreamStore {
  /** Records a new stream at `accepted`. */
  open(key: string, meta: Pick<StreamMeta, 'requestId' | 'jobId' | 'userId' | 'mode' | 'target'>, ttlSeconds: number): Promise<void>;
  /** The stream, or undefined when unknown or expired. */
  get(key: string): Promise<StreamMeta | undefined>;
  /**
   * Points a live stream at another connection, asking for the log from `fromSeq`. Returns the
   * stream as it now is (`moved`), or as it was when it had already ended (`ended`), or `unknown`.
   */
  retarget(key: string, connectionId: string, fromSeq: number): Promise<{ readonly outcome: 'moved' | 'ended'; readonly meta: StreamMeta } | { readonly outcome: 'unknown' }>;
  /** Logs one frame the client must be able to get again: a chunk by its `seq`, a response part by its `part`. */
  append(key: string, index: number, frame: ServerFrame, ttlSeconds: number): Promise<void>;
  /** The logged frames from index `from` on, in order. */
  replay(key: string, from: number): Promise<ServerFrame[]>;
  /**
   * Ends the stream with its terminal frame, kept for `retentionSeconds`, unless a resume came
   * since `version` (then returns false: the caller must deliver to the new target first).
   */
  end(key: string, terminal: ServerFrame, version: number, retentionSeconds: number): Promise<boolean>;
  /** Sets the cancel flag of a live stream. */
  cancel(key: string): Promise<void>;
}
