import type { AppConfig } from '../config/config';
import type { Replies } from '../delivery/replies';
import type { ErrorFrame, ServerFrame } from '../models/server-frames';
import type { RequestStore } from '../stores/request-store';
import type { LoggedFrame, StreamMeta, StreamStore } from '../stores/stream-store';
import type { Logger } from '../utils/logger';
import { ConnectionGoneError, type FrameSender } from '../utils/websocket';

export interface StreamTargetDeps {
  readonly sender: FrameSender;
  readonly streams: StreamStore;
  readonly requests: RequestStore;
  readonly replies: Replies;
  readonly log: Logger;
  /** How long the answer goes on without a client, waiting for a resume (0: stop at once). */
  readonly graceMs: number;
  /** TTL of the logged frames (they must outlive the longest answer plus the retention). */
  readonly logTtlSeconds: number;
  /** How long an ended answer stays resumable. */
  readonly retentionSeconds: number;
  /** Frames are logged in one write at most this often (0: each frame on its own)… */
  readonly checkpointMs: number;
  /** …or as soon as this many bytes of them wait. */
  readonly checkpointBytes: number;
  /** Called once when the client has been gone for the whole grace time: stop the generation. */
  readonly onGone: (reason: ConnectionGoneError) => void;
}

/**
 * Where a generation's frames go, followed by the worker as the stream's single writer: every
 * chunk (or response part) is posted to the current connection and kept, in memory for a live
 * resume and in the stream's log for a resume after the end. The log is written in checkpoints —
 * every `checkpointMs` or `checkpointBytes`, and whatever is left before the terminal frame is
 * recorded — so an answer costs a few writes instead of one per frame; a worker that crashes
 * mid-answer leaves at most the last checkpoint's worth of frames out of the log. When that one has
 * gone (410), the generation goes on unposted for the grace time; a resume (seen through the
 * stream's `version`) hands the request over: each connection it leaves gives up its record of
 * the request (so its id is free there and its cancel no longer reaches it) and is told
 * `resumed_elsewhere`; the new one gets `resumed`, the log from the asked `fromSeq`, and the
 * live rest — only frames from `fromSeq` on. All of it runs in one queue, so a switch never falls
 * between two posts: nothing is skipped or sent twice.
 */
export class StreamTarget {
  private target: string;
  private version: number;
  private attached = true;
  private readonly logged: ServerFrame[] = [];
  /** Frames posted but not yet in the log, and their size. */
  private unlogged: LoggedFrame[] = [];
  private unloggedBytes = 0;
  private lastCheckpoint = Date.now();
  private queue: Promise<void> = Promise.resolve();
  private grace: NodeJS.Timeout | undefined;
  /** The first index the current connection asked for: nothing before it goes there. */
  private floor = 0;

  constructor(
    private readonly deps: StreamTargetDeps,
    private readonly key: string,
    private readonly requestId: string,
    private readonly jobId: string,
    meta: Pick<StreamMeta, 'target' | 'version'>,
  ) {
    this.target = meta.target;
    this.version = meta.version;
  }

  /** How many resumes this target has followed (the stream's version it knows). */
  get followed(): number {
    return this.version;
  }

  /** The connection that holds the request now (every one it left gave its record up on the switch). */
  get connections(): readonly string[] {
    return [this.target];
  }

  /** Posts frame `index` (a chunk's seq, a response part's number) where the answer goes now, and logs it. */
  post(frame: ServerFrame, index: number): Promise<void> {
    return this.serially(async () => {
      this.logged[index] = frame;
      this.unlogged.push({ index, frame });
      this.unloggedBytes += JSON.stringify(frame).length;
      if (this.attached && index >= this.floor) await this.deliver(frame);
      const { checkpointMs, checkpointBytes } = this.deps;
      if (Date.now() - this.lastCheckpoint >= checkpointMs || this.unloggedBytes >= checkpointBytes) await this.checkpoint();
    });
  }

  /** Follows a resume the stream records (a newer version), in order with the posts. */
  follow(meta: StreamMeta): Promise<void> {
    return this.serially(() => this.switchTo(meta));
  }

  /** Writes the frames not yet in the log (the last checkpoint). */
  flushLog(): Promise<void> {
    return this.serially(() => this.checkpoint().catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not write the last frames to the log; a resume after the end misses them')));
  }

  /**
   * Records the end of the stream: the frames not yet logged, then its terminal frame (so a
   * resume that sees the end finds the whole log and gets the frame too). A resume that raced
   * the end is followed first. Posts nothing of the terminal frame: see {@link deliverEnd}.
   */
  end(terminal: ServerFrame): Promise<void> {
    return this.serially(async () => {
      clearTimeout(this.grace);
      await this.checkpoint().catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not write the last frames to the log; a resume after the end misses them'));
      for (let attempt = 0; attempt < 5; attempt += 1) {
        if (await this.deps.streams.end(this.key, terminal, this.version, this.deps.retentionSeconds)) break;
        const meta = await this.deps.streams.get(this.key);
        if (meta === undefined) break;
        await this.switchTo(meta);
      }
      clearTimeout(this.grace);
    });
  }

  /** Posts the terminal frame to the connection the answer goes to now (after {@link end}). */
  deliverEnd(terminal: ServerFrame): Promise<void> {
    return this.serially(async () => {
      if (this.attached) await this.deps.replies.send(this.target, terminal, this.deps.log);
    });
  }

  /** Stops the grace timer (the generation ended some other way). */
  close(): void {
    clearTimeout(this.grace);
  }

  /** Writes the frames not yet logged, in one item. */
  private async checkpoint(): Promise<void> {
    this.lastCheckpoint = Date.now();
    if (this.unlogged.length === 0) return;
    const frames = this.unlogged;
    await this.deps.streams.append(this.key, frames, this.deps.logTtlSeconds);
    // Only once written: a failed write leaves them for the next checkpoint.
    this.unlogged = this.unlogged.slice(frames.length);
    this.unloggedBytes = this.unlogged.reduce((bytes, logged) => bytes + JSON.stringify(logged.frame).length, 0);
  }

  private async switchTo(meta: StreamMeta): Promise<void> {
    if (meta.version <= this.version) return;
    // `targets` logs every resume: version v went to targets[v]. Each connection the request
    // passed through while this worker was not looking took it (its record says so) and must
    // give it up too, as must the one it goes from — unless the request comes back to it.
    const left = new Set([this.target, ...meta.targets.slice(this.version + 1, meta.version)]);
    left.delete(meta.target);
    this.target = meta.target;
    this.version = meta.version;
    this.floor = meta.fromSeq;
    this.attached = true;
    clearTimeout(this.grace);
    // Its record first, so the id is free there by the time it reads `resumed_elsewhere`; a gone
    // connection ignores the frame.
    const elsewhere: ErrorFrame = {
      type: 'error',
      requestId: this.requestId,
      code: 'resumed_elsewhere',
      message: 'This request was resumed on another connection.',
      retryable: false,
    };
    for (const connectionId of left) {
      await this.deps.requests.end(connectionId, this.requestId, this.jobId, meta.version).catch((error: unknown) => {
        this.deps.log.warn({ err: error }, 'could not remove the record of a connection the request left; its TTL will');
      });
      await this.deps.sender.send(connectionId, elsewhere).catch(() => undefined);
    }
    this.deps.log.info({ target: meta.target, fromSeq: meta.fromSeq, version: meta.version }, 'following a resume');
    await this.deliver({ type: 'resumed', requestId: this.requestId, fromSeq: meta.fromSeq });
    for (const frame of this.logged.slice(meta.fromSeq)) {
      if (frame !== undefined && this.attached) await this.deliver(frame);
    }
  }

  private async deliver(frame: ServerFrame): Promise<void> {
    try {
      await this.deps.sender.send(this.target, frame);
    } catch (error) {
      if (!(error instanceof ConnectionGoneError)) throw error;
      this.detach(error);
    }
  }

  /** The client has gone: go on unposted, and stop if no resume comes within the grace time. */
  private detach(reason: ConnectionGoneError): void {
    this.attached = false;
    void this.deps.replies.gone(this.target, this.deps.log);
    if (this.deps.graceMs === 0) {
      this.deps.onGone(reason);
      return;
    }
    this.deps.log.info({ graceMs: this.deps.graceMs }, 'client gone: the answer goes on, waiting for a resume');
    this.grace = setTimeout(() => this.deps.onGone(reason), this.deps.graceMs);
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    // A failure reaches the caller of this step; the queue itself goes on.
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** The stream target of a job: where its frames go and are logged, following resumes. */
export function streamTargetOf(
  deps: Omit<StreamTargetDeps, 'log' | 'graceMs' | 'logTtlSeconds' | 'retentionSeconds' | 'checkpointMs' | 'checkpointBytes' | 'onGone'> & { readonly config: AppConfig },
  job: { readonly streamKey: string; readonly requestId: string; readonly jobId: string; readonly connectionId: string },
  meta: StreamMeta | undefined,
  log: Logger,
  onGone: (reason: ConnectionGoneError) => void,
): StreamTarget {
  const { resume, requestTtlSeconds } = deps.config;
  return new StreamTarget(
    {
      ...deps,
      log,
      graceMs: resume.graceSeconds * 1000,
      logTtlSeconds: requestTtlSeconds + resume.retentionSeconds,
      retentionSeconds: resume.retentionSeconds,
      checkpointMs: resume.checkpointMs,
      checkpointBytes: resume.checkpointBytes,
      onGone,
    },
    job.streamKey,
    job.requestId,
    job.jobId,
    meta ?? { target: job.connectionId, version: 0 },
  );
}
