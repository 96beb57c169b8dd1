import type { StreamEvent } from './request.js';

export interface SmoothOptions {
  /** How often a piece of text is let out, in ms (default 30: about two animation frames). */
  readonly tickMs?: number;
  /** The longest the text still waiting when the answer ends takes to show, in ms (default 300). */
  readonly drainMs?: number;
}

/** The gap between frames assumed before two have arrived: the gateway's first-second cadence. */
const FIRST_GAP_MS = 100;
/** The most the next gap is predicted to grow over the last one. */
const MAX_GROWTH = 2;

/** The gaps between text frames seen so far. */
export interface FrameGaps {
  /** A moving average: one frame that comes late, or two that come together, is noise. */
  readonly averageMs: number;
  readonly lastMs?: number;
  readonly beforeMs?: number;
}

export const FIRST_GAPS: FrameGaps = { averageMs: FIRST_GAP_MS };

/** The gaps once a frame came `gapMs` after the one before it. */
export function nextGaps(gaps: FrameGaps, gapMs: number): FrameGaps {
  return { averageMs: 0.6 * gaps.averageMs + 0.4 * gapMs, lastMs: gapMs, beforeMs: gaps.lastMs };
}

/**
 * The gap until the next frame: the last one times its growth over the one before while the
 * cadence grows (the gateway lengthens it frame by frame after an answer's first second), and
 * never shorter than the moving average. Draining too fast leaves a pause; draining a little
 * slow only a little lag, which the next frame sets right.
 */
export function predictGap(gaps: FrameGaps): number {
  const { averageMs, lastMs, beforeMs } = gaps;
  if (lastMs === undefined) return averageMs;
  const growth = beforeMs === undefined || beforeMs <= 0 ? 1 : Math.min(MAX_GROWTH, Math.max(1, lastMs / beforeMs));
  return Math.max(averageMs, lastMs * growth);
}

/**
 * Lets a stream's text out evenly. The gateway sends text in frames — every 100 ms in an
 * answer's first second, then less often, up to every 800 ms — so shown as it arrives, a long
 * answer moves in jumps. This spreads each frame's text over the time until the next frame is
 * expected (`predictGap`), a few characters every `tickMs`, like the model's own tokens: the
 * first text is shown the moment it arrives, the rest at most about one frame gap later. Other
 * events (tool calls) pass in order, once the text before them is out; an error (a cancel too)
 * is thrown right after the text that came before it, shown at once. Stopping the iteration
 * stops reading the source.
 */
export async function* smoothEvents(source: AsyncIterable<StreamEvent>, options: SmoothOptions = {}): AsyncGenerator<StreamEvent> {
  const tickMs = options.tickMs ?? 30;
  const drainMs = options.drainMs ?? 300;
  const queue: StreamEvent[] = [];
  let ended = false;
  let failure: { readonly error: unknown } | undefined;
  let lastArrival: number | undefined;
  let gaps = FIRST_GAPS;
  /** Characters per ms, set at each arrival so that what waits is out by the next one. */
  let rate = 0;
  let wake: (() => void) | undefined;
  const waitingChars = (): number => queue.reduce((chars, event) => chars + (event.type === 'text' ? event.text.length : 0), 0);
  const iterator = source[Symbol.asyncIterator]();
  const reading = (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        const now = Date.now();
        if (next.value.type === 'text') {
          if (lastArrival !== undefined) gaps = nextGaps(gaps, now - lastArrival);
          lastArrival = now;
        }
        queue.push(next.value);
        rate = waitingChars() / Math.max(tickMs, predictGap(gaps));
        wake?.();
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      // The answer is over: what waits goes out within drainMs, not at the frames' pace — at
      // once if it failed (a Stop must stop the text moving).
      rate = failure !== undefined ? Number.POSITIVE_INFINITY : Math.max(rate, waitingChars() / Math.max(tickMs, drainMs));
      wake?.();
    }
  })();
  try {
    for (;;) {
      const head = queue[0];
      if (head === undefined) {
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (head.type !== 'text') {
        queue.shift();
        yield head;
        continue;
      }
      const piece = cut(head.text, Math.max(1, Math.min(head.text.length, Math.ceil(rate * tickMs))));
      if (piece.length === head.text.length) queue.shift();
      else queue[0] = { type: 'text', text: head.text.slice(piece.length) };
      yield { type: 'text', text: piece };
      if (queue[0]?.type === 'text') await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    await reading;
    if (failure !== undefined) throw failure.error;
  } finally {
    if (!ended) void iterator.return?.();
  }
}

/** `smoothEvents` for a stream read as text (`for await (const text of smoothText(stream))`). */
export async function* smoothText(source: AsyncIterable<string>, options: SmoothOptions = {}): AsyncGenerator<string> {
  async function* asEvents(): AsyncGenerator<StreamEvent> {
    for await (const text of source) yield { type: 'text', text };
  }
  for await (const event of smoothEvents(asEvents(), options)) if (event.type === 'text') yield event.text;
}

/** The first `count` UTF-16 units of `text`, one more rather than half a surrogate pair. */
function cut(text: string, count: number): string {
  if (count >= text.length) return text;
  const last = text.charCodeAt(count - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? count + 1 : count);
}
