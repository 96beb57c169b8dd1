import type { ChunkFrame } from '../models/server-frames';
import { LIMITS } from '../models/limits';
import { splitToFit } from './frame-split';

export interface ChunkStreamOptions {
  readonly requestId: string;
  /** Posts one frame; rejects when delivery failed for good (the SDK has already retried). */
  readonly post: (frame: ChunkFrame) => Promise<void>;
  /** Called once, at the first failed post, so the caller can stop the model at once. */
  readonly onFailure: (error: unknown) => void;
  readonly flushIntervalMs: number;
  /**
   * The interval after the first second grows by 10% a second up to this (default: the
   * interval itself, no growth): a long answer needs fewer frames, while its first second —
   * where a reader waits for text — keeps the base interval.
   */
  readonly maxFlushIntervalMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
  readonly flushBytes: number;
  readonly maxFrameBytes?: number;
}

/**
 * Coalesces model deltas into `chunk` frames with contiguous `seq`. At most one post is in
 * flight per stream, which keeps frames in order; deltas that arrive meanwhile are merged into
 * the next frame. The first delta goes out at once; after it, a frame goes out when
 * `flushBytes` are buffered or `flushIntervalMs` after the oldest buffered delta. A slow
 * management API therefore means fewer, larger frames rather than a growing backlog.
 */
export class ChunkStream {
  private buffer = '';
  private seq = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private due = false;
  /** When the oldest buffered delta arrived. */
  private oldestAt = 0;
  private failure: { error: unknown } | undefined;
  /** When the first delta arrived. */
  private startedAt: number | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: ChunkStreamOptions) {
    this.clock = options.now ?? Date.now;
  }

  /** Chunk frames posted so far (the `seq` that `done` carries). */
  get sent(): number {
    return this.seq;
  }

  write(text: string): void {
    if (this.failure) throw this.failure.error;
    if (text === '') return;
    if (this.buffer === '') this.oldestAt = this.clock();
    this.buffer += text;
    // The first chunk goes out at once: coalescing must not cost time to first token.
    const first = this.seq === 0 && !this.inFlight;
    if (first || this.buffer.length >= this.options.flushBytes || this.options.flushIntervalMs === 0) this.due = true;
    else this.schedule();
    this.pump();
  }

  /** Posts whatever is buffered and waits until every frame is delivered. */
  async end(): Promise<void> {
    this.clearTimer();
    this.due = true;
    // Each pass posts the buffer; deltas cannot arrive any more, so this ends.
    while (this.inFlight || (this.buffer !== '' && !this.failure)) {
      this.pump();
      if (this.inFlight) await this.inFlight;
    }
    if (this.failure) throw this.failure.error;
  }

  /** Stops timers without posting (the stream was abandoned). */
  close(): void {
    this.clearTimer();
    this.buffer = '';
  }

  private pump(): void {
    if (this.inFlight || !this.due || this.buffer === '' || this.failure) return;
    this.due = false;
    this.clearTimer();
    const content = this.buffer;
    this.buffer = '';
    this.inFlight = this.postAll(content).finally(() => {
      this.inFlight = undefined;
      if (this.buffer.length >= this.options.flushBytes) this.due = true;
      else this.schedule();
      this.pump();
    });
  }

  /**
   * The flush interval now: the base one for the stream's first second, then 10% more each
   * second, capped at `maxFlushIntervalMs`.
   */
  intervalAt(elapsedMs: number): number {
    const base = this.options.flushIntervalMs;
    const max = Math.max(base, this.options.maxFlushIntervalMs ?? base);
    if (elapsedMs < 1000 || max === base) return base;
    return Math.min(max, Math.round(base * 1.1 ** Math.floor(elapsedMs / 1000)));
  }

  /** Arms the timer so the oldest buffered delta waits at most the current interval. */
  private schedule(): void {
    if (this.timer || this.due || this.buffer === '') return;
    const now = this.clock();
    this.startedAt ??= now;
    const wait = Math.max(0, this.oldestAt + this.intervalAt(now - this.startedAt) - now);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.pump();
    }, wait);
  }

  private async postAll(content: string): Promise<void> {
    const maxBytes = this.options.maxFrameBytes ?? LIMITS.maxFrameBytes - 1024;
    const pieces = splitToFit(content, maxBytes, (piece) => this.frame(Number.MAX_SAFE_INTEGER, piece));
    try {
      for (const piece of pieces) {
        await this.options.post(this.frame(this.seq, piece));
        this.seq += 1;
      }
    } catch (error) {
      this.failure = { error };
      this.options.onFailure(error);
    }
  }

  private frame(seq: number, content: string): ChunkFrame {
    return { type: 'chunk', requestId: this.options.requestId, seq, content };
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
