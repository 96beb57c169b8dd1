import type { Replies } from '../delivery/replies';
import type { ErrorFrame, ServerFrame } from '../models/server-frames';
import type { RequestStore } from '../stores/request-store';
import type { StreamMeta, StreamStore } from '../stores/stream-store';
import type { Logger } from '../utils/logger';
import { ConnectionGoneError, type FrameSender } from '../utils/websocket';
import { AnswerLog, type AnswerLogOptions } from './answer-log';

export interface StreamTargetDeps {
  readonly sender: FrameSender;
  readonly streams: StreamStore;
  readonly requests: RequestStore;
  readonly replies: Replies;
  readonly log: Logger;
  /** How long the answer goes on without a client, waiting for a resume (0: stop at once). */
  readonly graceMs: number;
  /** How the answer's frames are logged (see AnswerLog). */
  readonly answerLog: AnswerLogOptions;
  /** How long an ended answer stays resumable. */
  readonly retentionSeconds: number;
  /** Called once when the client has been gone for the whole grace time: stop the generation. */
  readonly onGone: (reason: ConnectionGoneError) => void;
}

/**
 * Where a generation's frames go, followed by the worker as the stream's single writer: every
 * chunk (or response part) is posted to the current connection and kept in the answer's log
 * (`AnswerLog`: in memory for a live resume, in checkpoints for one after the end; the last
 * checkpoint is written before the terminal frame is recorded). When that connection has
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
  private readonly answerLog: AnswerLog;
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
    this.answerLog = new AnswerLog(deps.streams, key, deps.answerLog);
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
      this.answerLog.add(frame, index);
      if (this.attached && index >= this.floor) await this.deliver(frame);
      if (this.answerLog.due) await this.answerLog.checkpoint();
    });
  }

  /** Follows a resume the stream records (a newer version), in order with the posts. */
  follow(meta: StreamMeta): Promise<void> {
    return this.serially(() => this.switchTo(meta));
  }

  /**
   * For a target made after its worker stopped (the job was interrupted): a resume that worker
   * never followed gets what a live worker would have sent it — `resumed`, then the frames the
   * log holds from its `fromSeq` — before the terminal frame. A client may get frames it already
   * has again: it drops those by their seq, as after any resume.
   */
  replayLogged(meta: StreamMeta): Promise<void> {
    return this.serially(async () => {
      if (meta.version === 0) return;
      const fromSeq = meta.mode === 'chat' ? 0 : meta.fromSeq;
      this.floor = fromSeq;
      await this.deliver({ type: 'resumed', requestId: this.requestId, fromSeq });
      for (const frame of await this.deps.streams.replay(this.key, fromSeq)) {
        if (this.attached) await this.deliver(frame);
      }
    });
  }

  /** Writes the frames not yet in the log (the last checkpoint). */
  flushLog(): Promise<void> {
    return this.serially(() => this.lastCheckpoint());
  }

  /**
   * Records the end of the stream: the frames not yet logged, then its terminal frame (so a
   * resume that sees the end finds the whole log and gets the frame too). A resume that raced
   * the end is followed first. Posts nothing of the terminal frame: see {@link deliverEnd}.
   */
  end(terminal: ServerFrame): Promise<void> {
    return this.serially(async () => {
      clearTimeout(this.grace);
      await this.lastCheckpoint();
      try {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          if (await this.deps.streams.end(this.key, terminal, this.version, this.deps.retentionSeconds)) break;
          const meta = await this.deps.streams.get(this.key);
          if (meta === undefined) break;
          await this.switchTo(meta);
        }
      } catch (error) {
        // The request still ends — its records go, its terminal frame is posted — so the client
        // is not left waiting and its id is free; only a resume after the end misses the frame.
        this.deps.log.error({ err: error }, 'could not record the end of the stream; a resume after the end will not find it');
      }
      clearTimeout(this.grace);
    });
  }

  /** Posts the terminal frame to the connection the answer goes to now (after {@link end}). */
  deliverEnd(terminal: ServerFrame): Promise<void> {
    return this.serially(async () => {
      if (this.attached) await this.deps.replies.sendEnd(this.target, terminal, this.deps.log);
    });
  }

  /** Stops the grace timer (the generation ended some other way). */
  close(): void {
    clearTimeout(this.grace);
  }

  /** The answer's last frames into the log; a failure costs a resume after the end those frames, not the answer. */
  private lastCheckpoint(): Promise<void> {
    return this.answerLog.checkpoint().catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not write the last frames to the log; a resume after the end misses them'));
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
    for (const frame of this.answerLog.from(meta.fromSeq)) {
      if (this.attached) await this.deliver(frame);
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
