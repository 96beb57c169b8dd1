import type { ChunkFrame } from '../../src/models/server-frames';
import { ChunkStream } from '../../src/delivery/chunk-stream';
import { splitToFit } from '../../src/delivery/frame-split';
import { sleep, until } from '../helpers/ws-client';

function recorder(latencyMs = 0) {
  const posted: ChunkFrame[] = [];
  const post = async (frame: ChunkFrame): Promise<void> => {
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
    expect(posted.map((f) => f.content).join('')).toBe('Hello world');
    expect(stream.sent).toBe(2);
  });

  it('coalesces the deltas that arrive while a post is in flight into one frame after it', async () => {
    // Each post waits until the test lets it finish: what is tested is the order of events, not
    // how long a post takes on this machine.
    const posted: ChunkFrame[] = [];
    const pending: Array<() => void> = [];
    const post = (frame: ChunkFrame): Promise<void> =>
      new Promise((resolve) => {
        posted.push(frame);
        pending.push(resolve);
      });
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 0, flushBytes: 10_000 });
    const tokens = Array.from({ length: 100 }, (_, i) => `t${i} `);
    stream.write(tokens[0]!);
    await until(() => pending.length === 1, 'the first post');
    for (const token of tokens.slice(1)) stream.write(token);
    expect(posted).toHaveLength(1); // one post in flight at a time: the rest waits, buffered
    pending.shift()!();
    await until(() => pending.length === 1, 'the second post');
    expect(posted[1]!.content).toBe(tokens.slice(1).join(''));
    pending.shift()!();
    const ended = stream.end();
    await ended;
    expect(posted.map((f) => f.seq)).toEqual([0, 1]);
    expect(posted.map((f) => f.content).join('')).toBe(tokens.join(''));
  });

  it('flushes as soon as flushBytes are buffered', async () => {
    const { posted, post } = recorder();
    const stream = new ChunkStream({ requestId: 'r', post, onFailure: () => undefined, flushIntervalMs: 60_000, flushBytes: 8 });
    stream.write('first');
    await sleep(1);
    stream.write('12345678');
    await sleep(5);
    expect(posted.map((f) => f.content)).toEqual(['first', '12345678']);
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
    expect(posted.map((f) => f.content).join('')).toBe(`x${nasty}`);
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

  it('keeps the base interval for the first second, then grows it 10% a second up to the maximum', () => {
    const stream = new ChunkStream({ requestId: 'r', post: () => Promise.resolve(), onFailure: () => undefined, flushIntervalMs: 100, maxFlushIntervalMs: 200, flushBytes: 10_000 });
    expect([0, 999, 1000, 2500, 3000, 7000, 60_000].map((ms) => stream.intervalAt(ms))).toEqual([100, 100, 110, 121, 133, 195, 200]);
    const fixed = new ChunkStream({ requestId: 'r', post: () => Promise.resolve(), onFailure: () => undefined, flushIntervalMs: 100, flushBytes: 10_000 });
    expect(fixed.intervalAt(60_000)).toBe(100);
  });
});
