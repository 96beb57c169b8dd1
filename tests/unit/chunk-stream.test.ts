import type { SeqFrame } from '../../src/models/server-frames';
import { ChunkStream, nextFlushInterval } from '../../src/delivery/chunk-stream';
import { splitToFit } from '../../src/delivery/frame-split';
import { sleep, until } from '../helpers/ws-client';

/** A frame's text: a chunk's content, a tool frame's input piece. */
const body = (frame: SeqFrame): string => (frame.type === 'chunk' ? frame.content : frame.inputDelta);

/** Posts that wait until the test lets each finish (`pending.shift()!()`): the order of events is tested, not timing. */
function gated() {
  const posted: SeqFrame[] = [];
  const pending: Array<() => void> = [];
  const post = (frame: SeqFrame): Promise<void> =>
    new Promise((resolve) => {
      posted.push(frame);
      pending.push(resolve);
    });
  return { posted, pending, post };
}

function recorder(latencyMs = 0) {
  const posted: SeqFrame[] = [];
  const post = async (frame: SeqFrame): Promise<void> => {
    if (latencyMs > 0) await sleep(latencyMs);
    posted.push(frame);
  };
  return { posted, post };
}

describe('ChunkStream', () => {
  it('posts the first delta at once and numbers frames contiguously from 0', async () => {
    const { posted, post } = recorder();
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 1000, flushBytes: 10_000 });
    stream.write('Hello');
    await sleep(5);
    expect(posted).toEqual([{ type: 'chunk', requestId: 'r', seq: 0, content: 'Hello' }]);
    stream.write(' wor');
    stream.write('ld');
    await stream.end();
    expect(posted.map((f) => f.seq)).toEqual([0, 1]);
    expect(posted.map((f) => body(f)).join('')).toBe('Hello world');
    expect(stream.sent).toBe(2);
  });

  it('coalesces the deltas that arrive while a post is in flight into one frame after it', async () => {
    const { posted, pending, post } = gated();
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 0, flushBytes: 10_000 });
    const tokens = Array.from({ length: 100 }, (_, i) => `t${i} `);
    stream.write(tokens[0]!);
    await until(() => pending.length === 1, 'the first post');
    for (const token of tokens.slice(1)) stream.write(token);
    expect(posted).toHaveLength(1); // one post in flight at a time: the rest waits, buffered
    pending.shift()!();
    await until(() => pending.length === 1, 'the second post');
    expect(body(posted[1]!)).toBe(tokens.slice(1).join(''));
    pending.shift()!();
    const ended = stream.end();
    await ended;
    expect(posted.map((f) => f.seq)).toEqual([0, 1]);
    expect(posted.map((f) => body(f)).join('')).toBe(tokens.join(''));
  });

  it('flushes as soon as flushBytes are buffered', async () => {
    const { posted, post } = recorder();
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 60_000, flushBytes: 8 });
    stream.write('first');
    await sleep(1);
    stream.write('12345678');
    await sleep(5);
    expect(posted.map((f) => body(f))).toEqual(['first', '12345678']);
    await stream.end();
  });

  it('keeps every frame under the size limit even when JSON escaping grows the text six-fold', async () => {
    const { posted, post } = recorder();
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 0, flushBytes: 16_384, maxFrameBytes: 1024 });
    const nasty = '\u0001'.repeat(1000) + '😀'.repeat(300);
    stream.write('x');
    stream.write(nasty);
    await stream.end();
    for (const frame of posted) expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(1024);
    expect(posted.map((f) => body(f)).join('')).toBe(`x${nasty}`);
    expect(posted.map((f) => f.seq)).toEqual(posted.map((_, i) => i));
  });

  it('numbers text and tool-call frames in one sequence, merging a call’s pieces but never two calls, nor a call with text', async () => {
    const { posted, pending, post } = gated();
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 0, flushBytes: 10_000 });
    stream.write('Calling ');
    await until(() => pending.length === 1, 'the first post');
    // All of this arrives while the first frame is in flight: it is coalesced by kind and call.
    stream.write('two tools. ');
    stream.writeTool('a', 'get_time', '');
    stream.writeTool('a', 'get_time', '{"zone":');
    stream.writeTool('a', 'get_time', '"UTC"}');
    stream.writeTool('b', 'calculator', '{"expression":"6*7"}');
    stream.write('Done');
    pending.shift()!();
    const ended = stream.end();
    for (let i = 0; i < 4; i += 1) {
      await until(() => pending.length === 1, `post ${i + 2}`);
      pending.shift()!();
    }
    await ended;
    expect(posted).toEqual([
      { type: 'chunk', requestId: 'r', seq: 0, content: 'Calling ' },
      { type: 'chunk', requestId: 'r', seq: 1, content: 'two tools. ' },
      { type: 'tool_use', requestId: 'r', seq: 2, toolUseId: 'a', name: 'get_time', inputDelta: '{"zone":"UTC"}' },
      { type: 'tool_use', requestId: 'r', seq: 3, toolUseId: 'b', name: 'calculator', inputDelta: '{"expression":"6*7"}' },
      { type: 'chunk', requestId: 'r', seq: 4, content: 'Done' },
    ]);
    expect(stream.sent).toBe(5);
  });

  it('gives a call announced with an empty piece its own frame, and splits a long input to fit', async () => {
    const { posted, post } = recorder();
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 0, flushBytes: 16_384, maxFrameBytes: 512 });
    stream.writeTool('c', 'search', '');
    await stream.end();
    const input = JSON.stringify({ query: 'x'.repeat(2000) });
    stream.writeTool('c', 'search', input);
    await stream.end();
    expect(posted[0]).toEqual({ type: 'tool_use', requestId: 'r', seq: 0, toolUseId: 'c', name: 'search', inputDelta: '' });
    expect(posted.length).toBeGreaterThan(4);
    for (const frame of posted) expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(512);
    expect(posted.map(body).join('')).toBe(input);
    expect(posted.map((f) => f.seq)).toEqual(posted.map((_, i) => i));
  });

  it('reports the first failed post once and refuses further writes', async () => {
    const failures: unknown[] = [];
    const boom = new Error('post failed');
    const stream = new ChunkStream({
      requestId: 'r',
      post: () => Promise.reject(boom),
      onFailure: (error) => failures.push(error),
      flushIntervalMs: 0,
      flushBytes: 1,
    });
    stream.write('a');
    await sleep(5);
    expect(failures).toEqual([boom]);
    expect(() => stream.write('b')).toThrow(boom);
    await expect(stream.end()).rejects.toBe(boom);
  });
});

describe('splitToFit', () => {
  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(100);
    const pieces = splitToFit(text, 64, (piece) => ({ c: piece }));
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) expect(piece).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });

  it('returns the text whole when it fits', () => {
    expect(splitToFit('short', 100, (piece) => ({ c: piece }))).toEqual(['short']);
  });

  it('keeps the base interval for the first second, then grows it frame by frame up to the maximum', () => {
    const after = (elapsed: number[]) => {
      let interval = 100;
      return elapsed.map((ms) => (interval = nextFlushInterval(interval, ms, 100, 800)));
    };
    expect(after([0, 500, 999, 1000, 1200, 1500, 2000, 3000, 60_000])).toEqual([100, 100, 100, 170, 289, 491, 800, 800, 800]);
    expect(nextFlushInterval(100, 60_000, 100, 100)).toBe(100);
    expect(nextFlushInterval(100, 60_000, 100, 50)).toBe(100);
  });

  it('posts a long answer on that cadence: every 100 ms for a second, then 170, 289, 491 and 800 ms apart', async () => {
    jest.useFakeTimers();
    try {
      const postedAt: number[] = [];
      const stream = new ChunkStream({ requestId: 'r', post: () => (postedAt.push(Date.now()), Promise.resolve()), onFailure: () => undefined, flushIntervalMs: 100, maxFlushIntervalMs: 800, flushBytes: 10_000 });
      const start = Date.now();
      // A token every 20 ms for 5 s.
      for (let t = 0; t < 5000; t += 20) {
        stream.write('tok ');
        await jest.advanceTimersByTimeAsync(20);
      }
      await stream.end();
      const gaps = postedAt.slice(1).map((at, i) => at - postedAt[i]!);
      const late = gaps.filter((_, i) => postedAt[i + 1]! - start > 1100);
      expect(postedAt[0]).toBe(start);
      expect(gaps.slice(0, 9).every((gap) => gap <= 120)).toBe(true);
      // Each gap is the interval plus up to one token (20 ms): the timer starts at the first token after a post.
      const intervals = [170, 289, 491, 800, 800, 800];
      late.slice(0, intervals.length).forEach((gap, i) => expect(gap - intervals[i]!).toBeGreaterThanOrEqual(0));
      late.slice(0, intervals.length).forEach((gap, i) => expect(gap - intervals[i]!).toBeLessThanOrEqual(20));
      expect(late.length).toBe(intervals.length + 1);
    } finally {
      jest.useRealTimers();
    }
  });
});
