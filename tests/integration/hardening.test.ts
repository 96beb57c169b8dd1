import type { LocalGateway } from '../../src/local/emulator';
import { isWellFormed } from '../../src/models/text';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { startLocal } from '../helpers/local';
import { STORE_MODES } from '../helpers/store-modes';
import { freshMinute, TestClient, until, type Frame } from '../helpers/ws-client';

/**
 * Adversarial cases that once broke the gateway's promises — every accepted request ends with
 * exactly one terminal frame, limits never refuse wrongly, nothing is left behind — run on the
 * emulator in memory and in DynamoDB mode (dynalite) alike.
 */

const ask = (requestId: string, data: Record<string, unknown> = {}, action = 'llm/stream') => ({
  action,
  requestId,
  data: { messages: [{ role: 'user', content: 'hi' }], ...data },
});
const isTerminal = (f: Frame): boolean => f.type === 'done' || f.type === 'error' || (f.type === 'response' && f.part === f.parts - 1);
const terminalsOf = (client: TestClient, requestId: string): Frame[] => client.of(requestId).filter(isTerminal);

/**
 * Sends the same request `rounds` times, each the moment the previous one's terminal frame
 * arrives, reserving about 601 tokens each time; returns the terminal frame types in order.
 */
async function backToBack(ws: TestClient, requestId: string, rounds: number): Promise<string[]> {
  const ends: string[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const before = ws.frames.length;
    ws.send(ask(requestId, { inferenceConfig: { maxTokens: 600 } }));
    await ws.waitFor((frames) => frames.slice(before).some(isTerminal), 5000, `round ${round}`);
    ends.push(String(ws.frames.slice(before).find(isTerminal)?.type));
  }
  return ends;
}

describe.each(STORE_MODES)('hardening, %s mode', (_name, makeMode) => {
  const mode = makeMode();
  let local: LocalGateway | undefined;
  let client: TestClient | undefined;

  async function open(env: Record<string, string> = {}): Promise<TestClient> {
    local = await mode.start(env);
    client = await TestClient.connect(local.url);
    return client;
  }

  async function expectNothingLeft(): Promise<void> {
    // The worker's invocation ends a moment after the terminal frame (it deletes the message last).
    await until(async () => {
      const left = await mode.leftovers(local!);
      const { messages, invocations } = local!.queue.depth;
      return left.requests === 0 && left.slots === 0 && messages === 0 && invocations === 0;
    }, 'no request record, no slot and no queued job left', 5000);
  }

  afterEach(async () => {
    await client?.close();
    await local?.stop();
    client = undefined;
    local = undefined;
  });
  afterAll(() => mode.stop());

  it.each([
    ['__proto__', '{"__proto__":{"x":1}}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"y":2}}}'],
  ])('carries metadata with a %s key to the worker intact and ends the request with it', async (_key, metadata) => {
    const ws = await open();
    ws.send(`{"action":"llm/stream","requestId":"x","data":{"messages":[{"role":"user","content":"hi"}],"metadata":${metadata}}}`);
    const end = await ws.terminal('x');
    expect(end.type).toBe('done');
    const doneText = ws.raw.find((text) => text.includes('"type":"done"'));
    expect(doneText).toContain(`"metadata":${metadata}`);
    await expectNothingLeft();
  });

  it('admits the next request sent the moment `done` arrives, reusing its requestId, at a concurrency of 1 and a tight token budget', async () => {
    // Each request reserves about 601 tokens of a 1,000 budget, and uses about 45: two
    // reservations never fit together, so any slot, reservation or record still held when
    // `done` is posted would refuse the next request.
    const ws = await open({ MAX_CONCURRENT_PER_CONNECTION: '1', MAX_CONCURRENT_PER_USER: '1', RATE_LIMIT_TOKENS_PER_MINUTE: '1000', MOCK_ANSWER_TOKENS: '8' });
    expect(await backToBack(ws, 'same', 12)).toEqual(Array(12).fill('done'));
    await expectNothingLeft();
  });

  it('counts only admitted requests toward requests per minute', async () => {
    await freshMinute();
    const ws = await open({ RATE_LIMIT_REQUESTS_PER_MINUTE: '4', MAX_CONCURRENT_PER_CONNECTION: '1' });
    for (let i = 0; i < 6; i += 1) ws.send(ask(`burst-${i}`));
    const burst = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => ws.terminal(`burst-${i}`)));
    expect(burst.filter((f) => f.type === 'done')).toHaveLength(1);
    expect(burst.filter((f) => f.type === 'error').map((f) => f.message)).toEqual(Array(5).fill('At most 1 answers may run at once on this connection.'));
    // Only one request was admitted, so three more fit this minute's budget of four.
    for (let i = 0; i < 3; i += 1) {
      ws.send(ask(`after-${i}`));
      expect((await ws.terminal(`after-${i}`)).type).toBe('done');
    }
    ws.send(ask('over'));
    expect(await ws.terminal('over')).toMatchObject({ type: 'error', code: 'rate_limited', retryable: true });
    await expectNothingLeft();
    // Its own timeout: waiting for a fresh minute may take up to 20 s, all of the default one.
  }, 45_000);

  it('refuses a request larger than the whole token budget as invalid, not retryable, from the first request on', async () => {
    const ws = await open({ RATE_LIMIT_TOKENS_PER_MINUTE: '1000' });
    ws.send(ask('huge', { messages: [{ role: 'user', content: 'x'.repeat(40_000) }] }));
    const end = await ws.terminal('huge');
    expect(end).toMatchObject({ type: 'error', code: 'invalid_request', retryable: false });
    expect(end.message).toContain('1000 tokens per minute');
    expect(ws.frames.some((f) => f.type === 'accepted')).toBe(false);
    await expectNothingLeft();
  });

  it('never ends a running request with the refusal of a frame that names it', async () => {
    const ws = await open({ MOCK_TOKEN_DELAY_MS: '10' });
    ws.send(ask('live'));
    await ws.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    ws.send(ask('live'));
    ws.send(ask('live', { messages: [] }));
    ws.send({ action: 'llm/cancel', requestId: 'live', extra: 1 });
    ws.send({ action: 'ping', requestId: 'live', extra: 1 });
    await ws.waitFor((frames) => frames.filter((f) => f.refusedRequestId === 'live').length === 4);
    const end = await ws.terminal('live');
    expect(end.type).toBe('done');
    // A cancel after the end is a no-op: no frame for it, before or after the ping that follows.
    ws.send({ action: 'llm/cancel', requestId: 'live' });
    ws.send({ action: 'ping', requestId: 'p' });
    await ws.waitFor((frames) => frames.some((f) => f.type === 'pong' && f.requestId === 'p'));
    expect(terminalsOf(ws, 'live')).toHaveLength(1);
    expect(ws.frames.filter((f) => f.refusedRequestId === 'live')).toHaveLength(4);
    await expectNothingLeft();
  });

  it('counts characters, not UTF-16 units, and never emits half a surrogate pair', async () => {
    const ws = await open();
    ws.send(ask('emoji', { systemPrompt: '😀'.repeat(10_001), messages: [{ role: 'user', content: `a${'😀'.repeat(150)}` }] }));
    expect((await ws.terminal('emoji')).type).toBe('done');
    const chunks = ws.of('emoji').filter((f) => f.type === 'chunk');
    expect(chunks.map((f) => f.content).join('')).toContain('😀');
    for (const chunk of chunks) expect(isWellFormed(chunk.content)).toBe(true);
    ws.send(ask('too-many', { systemPrompt: '😀'.repeat(20_001) }));
    expect(await ws.terminal('too-many')).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('at most 20000 characters') });
    ws.send(ask('lone', { messages: [{ role: 'user', content: 'a\ud83d' }] }));
    expect(await ws.terminal('lone')).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('lone UTF-16 surrogate') });
    await expectNothingLeft();
  });

  it('runs the route and the worker as separate instances: with cancel polling off, a cancel cannot reach the generation, as in AWS', async () => {
    const ws = await open({ CANCEL_CHECK_INTERVAL_MS: '0', MOCK_TOKEN_DELAY_MS: '10' });
    expect(local!.worker).not.toBe(local!.gateway);
    ws.send(ask('far'));
    await ws.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    ws.send({ action: 'llm/cancel', requestId: 'far' });
    expect((await ws.terminal('far')).type).toBe('done');
    await expectNothingLeft();
  });
});

/** Stores whose releases take a while, as they may on DynamoDB under load. */
class SlowReleaseCounters extends MemoryCounterStore {
  override async release(...args: Parameters<MemoryCounterStore['release']>): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await super.release(...args);
  }

  override async releaseSlot(key: string, slotId: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await super.releaseSlot(key, slotId);
  }
}

class SlowEndRequests extends MemoryRequestStore {
  override async end(connectionId: string, requestId: string, jobId: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await super.end(connectionId, requestId, jobId);
  }
}

describe('the order of release and the terminal frame', () => {
  it('has released everything by the time `done` arrives, however slow the releases are', async () => {
    const local = await startLocal(
      { MAX_CONCURRENT_PER_CONNECTION: '1', RATE_LIMIT_TOKENS_PER_MINUTE: '1000', MOCK_ANSWER_TOKENS: '8' },
      { deps: { counters: new SlowReleaseCounters(), requests: new SlowEndRequests() } },
    );
    const ws = await TestClient.connect(local.url);
    try {
      expect(await backToBack(ws, 'again', 4)).toEqual(['done', 'done', 'done', 'done']);
    } finally {
      await ws.close();
      await local.stop();
    }
  });
});
