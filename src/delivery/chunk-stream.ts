import type { SeqFrame } from '../models/server-frames';
import { LIMITS } from '../models/limits';
import { splitToFit } from './frame-split';

export interface ChunkStreamOptions {
  readonly requestId: string;
  /** Posts one frame; rejects when delivery failed for good (the SDK has already retried). */
  readonly post: (frame: SeqFrame) => Promise<void>;
  /** Called once, at the first failed post, so the caller can stop the model at once. */
  readonly onFailure: (error: unknown) => void;
  readonly flushIntervalMs: number;
  /**
   * After the first second the interval grows by `FLUSH_GROWTH` at each frame up to this
   * (default: the interval itself, no growth): a long answer needs fewer frames — each one an
   * API Gateway message — while its first second, where a reader waits for text, keeps the base
   * interval. A client that shows the text evenly between frames (the client package's
   * `smoothText`) hides the longer cadence.
   */
  readonly maxFlushIntervalMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
  readonly flushBytes: number;
  readonly maxFrameBytes?: number;
}

/**
 * How much the flush interval grows at each frame after the first second (up to its maximum).
 * Frame by frame rather than in steps of a second: a smoothing client predicts the next gap from
 * the last two, and a gap that jumps (300 ms to 800 ms) is a pause it cannot foresee, while
 * ×1.7 a frame reaches 800 ms in four frames, as few as the steps took (bench/smooth-lag.ts).
 */
const FLUSH_GROWTH = 1.7;

/**
 * The flush interval for the next frame: the base one in the stream's first second, then the
 * previous one times `FLUSH_GROWTH`, capped at `max` (100 ms, then 170, 289, 491, 800 ms).
 */
export function nextFlushInterval(previousMs: number, elapsedMs: number, baseMs: number, maxMs: number): number {
  if (elapsedMs < 1000 || maxMs <= baseMs) return baseMs;
  return Math.min(maxMs, Math.max(baseMs, Math.round(previousMs * FLUSH_GROWTH)));
}

/** What is buffered, in order: text, or the input of one tool call. */
type Segment = { kind: 'text'; content: string } | { kind: 'tool'; toolUseId: string; name: string; content: string };

/**
 * Coalesces model deltas into `chunk` frames — and tool-call deltas into `tool_use` frames —
 * with one contiguous `seq` across both. At most one post is in flight per stream, which keeps
 * frames in order; deltas that arrive meanwhile are merged into the next frame of their kind
 * (text with text, one call's input with the same call's; never two calls in one frame). The
 * first delta goes out at once; after it, frames go out when `flushBytes` are buffered or
 * `flushIntervalMs` after the oldest buffered delta. A slow management API therefore means
 * fewer, larger frames rather than a growing backlog.
 */
export class ChunkStream {
  private segments: Segment[] = [];
  private buffered = 0;
  private seq = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private due = false;
  /** When the oldest buffered delta arrived. */
  private oldestAt = 0;
  private failure: { error: unknown } | undefined;
  /** When the first delta arrived. */
  private startedAt: number | undefined;
  /** The interval the last timer was armed with. */
  private interval: number;
  private readonly clock: () => number;

  constructor(private readonly options: ChunkStreamOptions) {
    this.clock = options.now ?? Date.now;
    this.interval = options.flushIntervalMs;
  }

  /** Frames posted so far, chunks and tool calls (the `seq` that `done` carries). */
  get sent(): number {
    return this.seq;
  }

  write(text: string): void {
    if (text === '') return;
    this.add({ kind: 'text', content: text });
  }

  /** A piece of a tool call's input; an empty piece announces the call (it gets a frame of its own). */
  writeTool(toolUseId: string, name: string, inputDelta: string): void {
    this.add({ kind: 'tool', toolUseId, name, content: inputDelta });
  }

  private add(segment: Segment): void {
    if (this.failure) throw this.failure.error;
    if (this.segments.length === 0) this.oldestAt = this.clock();
    const last = this.segments[this.segments.length - 1];
    const same = last !== undefined && last.kind === segment.kind && (last.kind === 'text' || (segment.kind === 'tool' && last.toolUseId === segment.toolUseId));
    if (same) last.content += segment.content;
    else this.segments.push(segment);
    this.buffered += segment.content.length;
    // The first frame goes out at once: coalescing must not cost time to first token.
    const first = this.seq === 0 && !this.inFlight;
    if (first || this.buffered >= this.options.flushBytes || this.options.flushIntervalMs === 0) this.due = true;
    else this.schedule();
    this.pump();
  }

  /** Posts whatever is buffered and waits until every frame is delivered. */
  async end(): Promise<void> {
    this.clearTimer();
    this.due = true;
    // Each pass posts the buffer; deltas cannot arrive any more, so this ends.
    while (this.inFlight || (this.segments.length > 0 && !this.failure)) {
      this.pump();
      if (this.inFlight) await this.inFlight;
    }
    if (this.failure) throw this.failure.error;
  }

  /** Stops timers without posting (the stream was abandoned). */
  close(): void {
    this.clearTimer();
    this.segments = [];
    this.buffered = 0;
  }

  private pump(): void {
    if (this.inFlight || !this.due || this.segments.length === 0 || this.failure) return;
    this.due = false;
    this.clearTimer();
    const segments = this.segments;
    this.segments = [];
    this.buffered = 0;
    this.inFlight = this.postAll(segments).finally(() => {
      this.inFlight = undefined;
      if (this.buffered >= this.options.flushBytes) this.due = true;
      else this.schedule();
      this.pump();
    });
  }

  /** Arms the timer so the oldest buffered delta waits at most the current interval. */
  private schedule(): void {
    if (this.timer || this.due || this.segments.length === 0) return;
    const now = this.clock();
    this.startedAt ??= now;
    const base = this.options.flushIntervalMs;
    this.interval = nextFlushInterval(this.interval, now - this.startedAt, base, this.options.maxFlushIntervalMs ?? base);
    const wait = Math.max(0, this.oldestAt + this.interval - now);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.pump();
    }, wait);
  }

  private async postAll(segments: readonly Segment[]): Promise<void> {
    const maxBytes = this.options.maxFrameBytes ?? LIMITS.maxFrameBytes - 1024;
    try {
      for (const segment of segments) {
        // An empty tool piece still gets its frame: it announces the call.
        const pieces = segment.content === '' ? [''] : splitToFit(segment.content, maxBytes, (piece) => this.frame(segment, Number.MAX_SAFE_INTEGER, piece));
        for (const piece of pieces) {
          await this.options.post(this.frame(segment, this.seq, piece));
          this.seq += 1;
        }
      }
    } catch (error) {
      this.failure = { error };
      this.options.onFailure(error);
    }
  }

  private frame(segment: Segment, seq: number, content: string): SeqFrame {
    const { requestId } = this.options;
    return segment.kind === 'text'
      ? { type: 'chunk', requestId, seq, content }
      : { type: 'tool_use', requestId, seq, toolUseId: segment.toolUseId, name: segment.name, inputDelta: content };
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
