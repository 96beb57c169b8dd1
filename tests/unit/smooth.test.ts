import { smoothEvents, smoothText, type StreamEvent } from '../../client/src/index.js';
import { FIRST_GAPS, nextGaps, predictGap } from '../../client/src/smooth.js';
import { nextFlushInterval } from '../../src/delivery/chunk-stream';

/** A source the test feeds by hand: each `send` is one frame's worth, `end`/`fail` close it. */
class Feed implements AsyncIterable<StreamEvent> {
  private readonly items: StreamEvent[] = [];
  private closed: { readonly error?: unknown } | undefined;
  private wake: (() => void) | undefined;
  returned = false;

  send(event: StreamEvent): void {
    this.items.push(event);
    this.wake?.();
  }

  end(error?: unknown): void {
    this.closed = error === undefined ? {} : { error };
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    try {
      for (;;) {
        const item = this.items.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (this.closed !== undefined) {
          if ('error' in this.closed) throw this.closed.error;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.returned = true;
    }
  }
}

const text = (t: string): StreamEvent => ({ type: 'text', text: t });

describe('smoothEvents: the client shows frames’ text evenly', () => {
  it('lets the first text out the moment it arrives, before the next frame exists', async () => {
    const feed = new Feed();
    const smooth = smoothEvents(feed, { tickMs: 1 });
    feed.send(text('Hello, world. '.repeat(20)));
    // The next frame is sent only once a first piece came out: a smoother that waited for it would hang here.
    const first = await smooth.next();
    expect(first.value).toEqual({ type: 'text', text: expect.stringMatching(/^H/) });
    feed.send(text('And more.'));
    feed.end();
    const rest: string[] = [];
    for await (const event of smooth) if (event.type === 'text') rest.push(event.text);
    expect((first.value as { text: string }).text + rest.join('')).toBe(`${'Hello, world. '.repeat(20)}And more.`);
  });

  it('spreads one frame over many small pieces, all of its text once, in order, never half a surrogate pair', async () => {
    const feed = new Feed();
    const frame = 'Grüße 👋🏽 '.repeat(30);
    feed.send(text(frame));
    feed.send(text('end 🎉'));
    feed.end();
    const pieces: string[] = [];
    for await (const event of smoothEvents(feed, { tickMs: 1 })) if (event.type === 'text') pieces.push(event.text);
    expect(pieces.join('')).toBe(`${frame}end 🎉`);
    expect(pieces.length).toBeGreaterThan(10);
    for (const piece of pieces) expect(piece).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
  });

  it('passes tool calls in order, after the text before them', async () => {
    const feed = new Feed();
    const call: StreamEvent = { type: 'tool_use', toolUseId: 't1', name: 'get_time', inputDelta: '{}' };
    feed.send(text('Let me check the time for you, one moment. '));
    feed.send(call);
    feed.send(text('Done.'));
    feed.end();
    const seen: StreamEvent[] = [];
    for await (const event of smoothEvents(feed, { tickMs: 1 })) seen.push(event);
    const at = seen.indexOf(call);
    expect(seen.slice(0, at).map((e) => (e.type === 'text' ? e.text : '')).join('')).toBe('Let me check the time for you, one moment. ');
    expect(seen.slice(at + 1).map((e) => (e.type === 'text' ? e.text : '')).join('')).toBe('Done.');
  });

  it('throws the source’s error after the text that came before it', async () => {
    const feed = new Feed();
    feed.send(text('partial answer '.repeat(10)));
    feed.end(new Error('cancelled'));
    let shown = '';
    await expect(
      (async () => {
        for await (const t of smoothText((async function* () {
          for await (const e of feed) if (e.type === 'text') yield e.text;
        })(), { tickMs: 1 })) shown += t;
      })(),
    ).rejects.toThrow('cancelled');
    expect(shown).toBe('partial answer '.repeat(10));
  });

  it('stops reading the source when the reader stops', async () => {
    const feed = new Feed();
    feed.send(text('a long frame of text '.repeat(10)));
    for await (const event of smoothEvents(feed, { tickMs: 1 })) {
      expect(event.type).toBe('text');
      break;
    }
    // The source is not ended: only the smoother's return() can close it once it resumes.
    feed.send(text('more'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(feed.returned).toBe(true);
  });
});

describe('smoothEvents on the gateway’s cadence', () => {
  it('predicts the next gap: growing as the last two grew (at most twice), never under their moving average', () => {
    const after = (...gapsMs: number[]) => predictGap(gapsMs.reduce(nextGaps, FIRST_GAPS));
    expect(after()).toBe(100);
    expect(after(100, 100, 100)).toBeCloseTo(100);
    expect(after(100, 170)).toBeCloseTo(289);
    expect(after(800, 800, 800, 800)).toBeCloseTo(800);
    expect(after(800, 3000)).toBe(6000);
    // Two frames that come together do not make the next one due at once.
    expect(after(800, 800, 800, 0)).toBeGreaterThan(300);
  });

  it('shows a long answer without a pause longer than 200 ms while its frames go from 100 ms to 800 ms apart', async () => {
    jest.useFakeTimers();
    try {
      const feed = new Feed();
      const updates: number[] = [];
      let shown = '';
      const reading = (async () => {
        for await (const event of smoothEvents(feed)) {
          if (event.type !== 'text') continue;
          updates.push(Date.now());
          shown += event.text;
        }
      })();
      // 8 s of an answer at 200 characters a second, sent on the gateway's flush cadence.
      let sent = '';
      let elapsed = 0;
      let interval = 100;
      while (elapsed < 8000) {
        const frame = 'x'.repeat(interval / 5);
        feed.send(text(frame));
        sent += frame;
        interval = nextFlushInterval(interval, elapsed, 100, 800);
        elapsed += interval;
        await jest.advanceTimersByTimeAsync(interval);
      }
      feed.end();
      await jest.advanceTimersByTimeAsync(1000);
      await reading;
      expect(shown).toBe(sent);
      const pauses = updates.slice(1).map((at, i) => at - updates[i]!);
      expect(Math.max(...pauses)).toBeLessThanOrEqual(200);
    } finally {
      jest.useRealTimers();
    }
  });
});
