import type { ServerFrame } from '../models/server-frames';
import type { LoggedFrame, StreamStore } from '../stores/stream-store';

export interface AnswerLogOptions {
  /** TTL of the logged frames (they must outlive the longest answer plus the retention). */
  readonly ttlSeconds: number;
  /** Frames are logged in one write at most this often (0: each frame on its own)… */
  readonly checkpointMs: number;
  /** …or as soon as this many bytes of them wait. */
  readonly checkpointBytes: number;
}

/**
 * An answer's frames as its worker keeps them: all of them in memory, for a live resume, and in
 * the stream's log, for a resume after the end — written in checkpoints (every `checkpointMs` or
 * `checkpointBytes`, and whatever is left at the end), so an answer costs a few writes instead of
 * one per frame. A worker that crashes mid-answer leaves at most one checkpoint's worth out of
 * the log.
 */
export class AnswerLog {
  private readonly frames: ServerFrame[] = [];
  /** Frames kept but not yet in the log, and their size. */
  private unlogged: LoggedFrame[] = [];
  private unloggedBytes = 0;
  private lastCheckpoint = Date.now();

  constructor(
    private readonly streams: StreamStore,
    private readonly key: string,
    private readonly options: AnswerLogOptions,
  ) {}

  /** Keeps frame `index` (a chunk's seq, a response part's number). */
  add(frame: ServerFrame, index: number): void {
    this.frames[index] = frame;
    this.unlogged.push({ index, frame });
    this.unloggedBytes += JSON.stringify(frame).length;
  }

  /** Whether a checkpoint is due: the interval has passed or enough bytes wait. */
  get due(): boolean {
    return Date.now() - this.lastCheckpoint >= this.options.checkpointMs || this.unloggedBytes >= this.options.checkpointBytes;
  }

  /** The frames kept from `index` on, in order (for a live resume). */
  from(index: number): ServerFrame[] {
    return this.frames.slice(index).filter((frame): frame is ServerFrame => frame !== undefined);
  }

  /** Writes the frames not yet logged, in one item. */
  async checkpoint(): Promise<void> {
    this.lastCheckpoint = Date.now();
    if (this.unlogged.length === 0) return;
    const frames = this.unlogged;
    await this.streams.append(this.key, frames, this.options.ttlSeconds);
    // Only once written: a failed write leaves them for the next checkpoint.
    this.unlogged = this.unlogged.slice(frames.length);
    this.unloggedBytes = this.unlogged.reduce((bytes, logged) => bytes + JSON.stringify(logged.frame).length, 0);
  }
}
