import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import type { LocalGateway } from '../../src/local/emulator';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { slowProxy, startDynalite, type DynamoProxy } from '../helpers/dynamo';
import { startLocal } from '../helpers/local';
import { seededRandom } from '../helpers/seed';
import { freshMinute, TestClient, type Frame } from '../helpers/ws-client';

/**
 * No false refusal from the parallel admission: the id, the slots and the counters are taken
 * side by side, so a request refused on one limit holds the others for a moment — and another
 * request of the same user meeting those holdings must still be admitted. Each store request
 * takes 20–60 ms (dynalite behind a slow proxy; memory counters that wait as long), drawn from a
 * printed seed, so the moments overlap whatever the machine's load and writes sent together
 * land in any order.
 */

/** A model that answers at once, except to "hold", which it answers when the test lets it. */
class HoldingModel implements ChatModel {
  private release: (() => void) | undefined;
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));

  async *stream(request: ChatModelRequest): AsyncIterable<ChatModelEvent> {
    const last = request.messages[request.messages.length - 1];
    if (last?.content === 'hold') await this.held;
    yield { type: 'delta', text: 'ok' };
    yield { type: 'end', stopReason: 'end_turn', usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 }, modelId: request.modelId };
  }

  letGo(): void {
    this.release?.();
  }
}

const random = seededRandom('admission-race');
/** Each store request takes 20–60 ms, so requests sent together overlap and arrive in any order. */
const latency = (): number => 20 + Math.floor(random() * 40);

/** Memory counters with a store's latency, so that admissions overlap in memory too. */
class LatentCounters extends MemoryCounterStore {
  private readonly wait = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, latency()));
  override async tryAddEach(...args: Parameters<MemoryCounterStore['tryAddEach']>): ReturnType<MemoryCounterStore['tryAddEach']> {
    await this.wait();
    return super.tryAddEach(...args);
  }
  override async release(...args: Parameters<MemoryCounterStore['release']>): Promise<void> {
    await this.wait();
    return super.release(...args);
  }
  override async acquireSlot(...args: Parameters<MemoryCounterStore['acquireSlot']>): ReturnType<MemoryCounterStore['acquireSlot']> {
    await this.wait();
    return super.acquireSlot(...args);
  }
  override async releaseSlot(...args: Parameters<MemoryCounterStore['releaseSlot']>): Promise<void> {
    await this.wait();
    return super.releaseSlot(...args);
  }
}

const ask = (requestId: string, content = 'hi', inferenceConfig: Record<string, unknown> = {}) => ({
  action: 'llm/stream',
  requestId,
  data: { messages: [{ role: 'user', content }], inferenceConfig },
});
const isTerminal = (f: Frame): boolean => f.type === 'done' || f.type === 'error';
const LIMITS = { MAX_CONCURRENT_PER_CONNECTION: '1', MAX_CONCURRENT_PER_USER: '2', RATE_LIMIT_REQUESTS_PER_MINUTE: '1000', RATE_LIMIT_TOKENS_PER_MINUTE: '20000' };

describe.each([['memory'], ['DynamoDB']])('admission without false refusals, %s mode', (mode) => {
  let dynalite: Awaited<ReturnType<typeof startDynalite>> | undefined;
  let proxy: DynamoProxy | undefined;
  let local: LocalGateway | undefined;
  let model: HoldingModel;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    if (mode !== 'DynamoDB') return;
    dynalite = await startDynalite();
    proxy = await slowProxy(dynalite.endpoint, 20, { jitterMs: 40, random });
  });
  afterAll(async () => {
    await proxy?.stop();
    await dynalite?.stop();
  });
  let tables = 0;
  async function start(env: Record<string, string> = {}): Promise<void> {
    model = new HoldingModel();
    const store = mode === 'DynamoDB' ? { DYNAMODB_ENDPOINT: proxy!.endpoint, CONNECTIONS_TABLE: `race-${(tables += 1)}` } : {};
    local = await startLocal({ ...LIMITS, ...env, ...store }, { deps: { model, ...(mode === 'memory' ? { counters: new LatentCounters() } : {}) } });
  }
  afterEach(async () => {
    model.letGo();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local?.stop();
    local = undefined;
  });
  const connect = async (): Promise<TestClient> => {
    const client = await TestClient.connect(local!.url);
    clients.push(client);
    return client;
  };

  /** One answer of the user running (and held) on its own connection: the user has one slot of two left. */
  async function oneRunning(): Promise<void> {
    const a = await connect();
    a.send(ask('running', 'hold'));
    await a.waitFor((frames) => frames.some((f) => f.type === 'accepted'), 10_000, 'the held answer accepted');
  }

  it('admits exactly one of 20 requests sent at once on a connection with one slot, while the user has one of two left', async () => {
    await start();
    await oneRunning();
    const b = await connect();
    // Each is held once admitted, so a slot never frees during the test: exactly one fits.
    for (let i = 0; i < 20; i += 1) b.send(ask(`b-${i}`, 'hold'));
    const answered = await b.waitFor((frames) => frames.filter((f) => f.type === 'accepted' || f.type === 'error').length === 20, 20_000, 'all 20 answered');
    expect(answered.filter((f) => f.type === 'accepted')).toHaveLength(1);
    const refusals = answered.filter((f) => f.type === 'error');
    expect(refusals).toHaveLength(19);
    expect(refusals.every((f) => f.code === 'rate_limited')).toBe(true);
  }, 60_000);

  it('admits a request beside one refused on tokens, ten times out of ten', async () => {
    // The budget must not start again mid-test: that would let the big one through.
    await freshMinute(15_000);
    await start({ RATE_LIMIT_TOKENS_PER_MINUTE: '5000' });
    await oneRunning();
    for (let round = 0; round < 10; round += 1) {
      const [big, small] = await Promise.all([connect(), connect()]);
      // The running answer holds about 1,000 tokens of 5,000: this one's 4,096 cannot fit beside it.
      big.send(ask(`big-${round}`, 'hi', { maxTokens: 4096 }));
      small.send(ask(`small-${round}`));
      const [refused, admitted] = await Promise.all([big.terminal(`big-${round}`, 20_000), small.terminal(`small-${round}`, 20_000)]);
      // Refused on tokens — or, once the small one runs, on the user's two slots: both hold then.
      expect(refused).toMatchObject({ type: 'error', code: 'rate_limited' });
      expect(['Rate limit reached: 5000 tokens per minute.', 'At most 2 answers may run at once for this user.']).toContain(refused.message);
      expect({ round, type: admitted.type, message: admitted.message as unknown }).toEqual({ round, type: 'done', message: undefined });
    }
  }, 90_000);

  it('admits a request beside a duplicate of a running id, ten times out of ten', async () => {
    // The user's one running answer is on this connection, which has two slots.
    await start({ MAX_CONCURRENT_PER_CONNECTION: '2' });
    const c = await connect();
    c.send(ask('dup', 'hold'));
    await c.waitFor((frames) => frames.some((f) => f.type === 'accepted'), 10_000, 'the held answer accepted');
    for (let round = 0; round < 10; round += 1) {
      const before = c.frames.length;
      c.send(ask('dup'));
      c.send(ask(`new-${round}`));
      const admitted = await c.terminal(`new-${round}`, 20_000);
      await c.waitFor((frames) => frames.slice(before).some((f) => f.refusedRequestId === 'dup'), 20_000, 'the duplicate refused');
      expect({ round, type: admitted.type, message: admitted.message as unknown }).toEqual({ round, type: 'done', message: undefined });
    }
    expect(c.of('dup').filter(isTerminal)).toHaveLength(0);
  }, 90_000);
});
