import { createHash } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel } from '../../src/llm/mock';
import type { LocalGateway } from '../../src/local/emulator';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { MemoryStreamStore } from '../../src/stores/memory-stream-store';
import { quiesce, startLocal, TEST_SERVER } from '../helpers/local';
import { ClientPool, type Frame, type TestClient, until } from '../helpers/ws-client';

const ask = (requestId: string, content = 'hello') => ({ action: 'llm/stream', requestId, data: { messages: [{ role: 'user', content }] } });

/** Wraps a model and records the most generations it ran at once. */
class PeakModel implements ChatModel {
  running = 0;
  peak = 0;
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    this.running += 1;
    this.peak = Math.max(this.peak, this.running);
    try {
      yield* this.inner.stream(request, signal);
    } finally {
      this.running -= 1;
    }
  }
}

/** A model whose answers wait, before their first delta, until the test opens the gate. */
class GatedModel implements ChatModel {
  waiting = 0;
  private opened = false;
  private readonly sleepers: Array<() => void> = [];
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    if (!this.opened) {
      this.waiting += 1;
      await new Promise<void>((resolve) => this.sleepers.push(resolve));
    }
    yield* this.inner.stream(request, signal);
  }
  open(): void {
    this.opened = true;
    this.sleepers.splice(0).forEach((wake) => wake());
  }
}

/**
 * A model whose process "dies" after three deltas: it stops yielding and ignores its abort signal,
 * like a Lambda sandbox that crashed or was frozen at its timeout. `release` ends it (test cleanup),
 * and every answer after it: one that reaches its hang only after the release (a request the test
 * sent last) would otherwise hang for good — its generation never ends, so its resume grace timer
 * (30 s, armed when the test's client left) kept Jest from exiting after the run.
 */
class DyingModel implements ChatModel {
  private readonly sleepers: Array<() => void> = [];
  private released = false;
  async *stream(): AsyncIterable<ChatModelEvent> {
    for (const text of ['one ', 'two ', 'three ']) yield { type: 'delta', text };
    if (!this.released) await new Promise<void>((resolve) => this.sleepers.push(resolve));
    throw new Error('the sandbox was gone');
  }
  release(): void {
    this.released = true;
    this.sleepers.splice(0).forEach((wake) => wake());
  }
}

/** A stream store whose claims fail, as when DynamoDB is unreachable from the worker. */
class UnreachableClaims extends MemoryStreamStore {
  override claim(): Promise<never> {
    return Promise.reject(new Error('DynamoDB unreachable'));
  }
}

describe('the queue between the route handler and the worker (local SQS, real SQS client)', () => {
  let local: LocalGateway | undefined;
  const pool = new ClientPool(() => local!.url);
  const connect = (): Promise<TestClient> => pool.connect();
  afterEach(async () => {
    await pool.closeAll();
    await local?.stop();
    local = undefined;
  });

  it('holds a burst above the worker concurrency in the queue, and every answer arrives complete', async () => {
    // Prepare: two worker invocations at most, of one record each (answers at once ≤ concurrency ×
    // batch size), eight clients asking at once.
    const model = new PeakModel(new MockChatModel({ tokenDelayMs: 5, answerTokens: 20 }));
    local = await startLocal({ MAX_CONCURRENT_PER_USER: '0' }, { deps: { model }, server: { queue: { ...TEST_SERVER.queue, maxInvocations: 2, batchSize: 1 } } });
    const burst = await Promise.all(Array.from({ length: 8 }, () => connect()));
    // Act
    burst.forEach((client, i) => client.send(ask(`b-${i}`, `question ${i}`)));
    const ends = await Promise.all(burst.map((client, i) => client.terminal(`b-${i}`, 15_000)));
    // Assess
    expect(ends.map((f) => f.type)).toEqual(Array(8).fill('done'));
    expect(model.peak).toBe(2);
    for (const [i, client] of burst.entries()) {
      const frames = client.of(`b-${i}`);
      expect(frames[0]).toMatchObject({ type: 'accepted' });
      const chunks = frames.filter((f) => f.type === 'chunk');
      expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, n) => n));
      expect(chunks.map((f) => String(f.content)).join('')).toContain(`question ${i}`);
    }
  });

  it('tells the client once when a worker dies mid-answer, on the redelivery, and never streams again', async () => {
    // Prepare: the worker "times out" after 600 ms; SQS shows the message again after 900 ms.
    const model = new DyingModel();
    const requests = new MemoryRequestStore();
    const counters = new MemoryCounterStore();
    local = await startLocal(
      { WORKER_TIME_MARGIN_MS: '0', MAX_CONCURRENT_PER_CONNECTION: '1', WORKER_TIMEOUT_MS: '600', QUEUE_MAX_RECEIVE_COUNT: '3' },
      { deps: { model, requests, counters }, server: { queue: { visibilityTimeoutMs: 900, maxInvocations: 5, batchSize: 10 } } },
    );
    const client = await connect();
    try {
      // Act
      client.send(ask('dies'));
      const end = await client.terminal('dies', 5000);
      // Assess
      expect(end).toMatchObject({ type: 'error', code: 'internal_error', retryable: true, message: 'The answer was interrupted; please retry.' });
      await quiesce(local, client);
      const frames = client.of('dies');
      // What the dead worker sent, once, in order; then one terminal error.
      expect(frames[0]).toMatchObject({ type: 'accepted' });
      const chunks = frames.slice(1, -1);
      expect(chunks.every((f) => f.type === 'chunk')).toBe(true);
      expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, i) => i));
      expect(chunks.map((f) => String(f.content)).join('')).toBe('one two three ');
      expect(frames.filter((f) => f.type === 'error')).toHaveLength(1);
      expect(requests.size).toBe(0);
      // The connection's one slot came back: the next request is accepted, not rate_limited.
      client.send(ask('after'));
      await client.waitFor((all) => all.some((f) => f.requestId === 'after' && f.type === 'accepted'), 3000, 'the next request accepted');
    } finally {
      // The "dead" generator is still parked: end it whether or not the checks passed.
      model.release();
      await client.close();
    }
  });

  it.each([
    ['every frame logged at once (RESUME_CHECKPOINT_BYTES=1)', '1', true],
    ['no checkpoint reached before the crash', '65536', false],
  ])('replays, after a worker died mid-answer, what its log checkpoints hold and then the one error: %s', async (_name, checkpointBytes, replayed) => {
    // Prepare: as above, with the log's checkpoints at a size, and a minute apart.
    const model = new DyingModel();
    local = await startLocal(
      { WORKER_TIME_MARGIN_MS: '0', WORKER_TIMEOUT_MS: '400', QUEUE_MAX_RECEIVE_COUNT: '3', RESUME_CHECKPOINT_MS: '60000', RESUME_CHECKPOINT_BYTES: checkpointBytes },
      { deps: { model }, server: { queue: { visibilityTimeoutMs: 600, maxInvocations: 5, batchSize: 10 } } },
    );
    const client = await connect();
    try {
      client.send(ask('dies'));
      await client.terminal('dies', 5000);
      const token = String(client.of('dies')[0]!.resumeToken);
      // Act: a resume after the end, on a new connection.
      const later = await connect();
      later.send({ action: 'llm/resume', requestId: 'dies', data: { resumeToken: token, fromSeq: 0 } });
      const end = await later.terminal('dies', 5000);
      // Assess: the log's frames, in order, from 0 — never a frame twice or out of order — then the error.
      expect(end).toMatchObject({ type: 'error', code: 'internal_error', message: 'The answer was interrupted; please retry.' });
      const frames = later.of('dies');
      expect(frames[0]).toMatchObject({ type: 'resumed', fromSeq: 0 });
      // What the first client saw live is whole either way.
      const live = client.of('dies').filter((f) => f.type === 'chunk');
      expect(live.map((f) => String(f.content)).join('')).toBe('one two three ');
      expect(frames.slice(1, -1)).toEqual(replayed ? live : []);
    } finally {
      model.release();
    }
  });

  it('gives a resume that came while the worker was hung what the log holds, then the one error, once the redelivery finds it interrupted', async () => {
    // Prepare: every frame logged at once; the worker's time runs out after 400 ms, and SQS shows
    // the message again only after 3 s — a resume sent in between finds no worker following it.
    const model = new DyingModel();
    local = await startLocal(
      { WORKER_TIME_MARGIN_MS: '0', WORKER_TIMEOUT_MS: '400', QUEUE_MAX_RECEIVE_COUNT: '3', RESUME_CHECKPOINT_BYTES: '1', CANCEL_CHECK_INTERVAL_MS: '50' },
      { deps: { model }, server: { queue: { visibilityTimeoutMs: 3000, maxInvocations: 5, batchSize: 10 } } },
    );
    const client = await connect();
    try {
      client.send(ask('hung'));
      const text = (frames: Frame[]): string => frames.filter((f) => f.requestId === 'hung' && f.type === 'chunk').map((f) => String(f.content)).join('');
      await client.waitFor((frames) => text(frames) === 'one two three ', 5000, 'the three deltas');
      const token = String(client.of('hung')[0]!.resumeToken);
      // Past the worker's time limit (its watch has stopped), well before the redelivery.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const later = await connect();
      later.send({ action: 'llm/resume', requestId: 'hung', data: { resumeToken: token, fromSeq: 0 } });
      const end = await later.terminal('hung', 10_000);
      expect(end).toMatchObject({ type: 'error', code: 'internal_error', message: 'The answer was interrupted; please retry.' });
      const frames = later.of('hung');
      expect(frames[0]).toMatchObject({ type: 'resumed', fromSeq: 0 });
      expect(frames.slice(1, -1)).toEqual(client.of('hung').filter((f) => f.type === 'chunk'));
      expect(frames.filter((f) => f.type === 'error')).toHaveLength(1);
    } finally {
      model.release();
    }
  });

  it('sends a job that cannot be started to the dead-letter queue after maxReceiveCount, telling the client once', async () => {
    const streams = new UnreachableClaims();
    local = await startLocal(
      { QUEUE_MAX_RECEIVE_COUNT: '2', WORKER_TIMEOUT_MS: '100', WORKER_TIME_MARGIN_MS: '0' },
      { deps: { streams }, server: { queue: { visibilityTimeoutMs: 150, maxInvocations: 5, batchSize: 10 } } },
    );
    const client = await connect();
    client.send(ask('stuck'));
    await until(() => local!.queue.deadLetters.length === 1, 'the message in the dead-letter queue', 5000);
    await quiesce(local, client);
    expect(client.of('stuck').map((f) => f.type)).toEqual(['accepted', 'error']);
    expect(client.of('stuck')[1]).toMatchObject({ code: 'internal_error', retryable: true });
    expect(local.queue.deadLetters[0]!.receiveCount).toBe(2);
    expect(local.queue.depth).toEqual({ messages: 0, invocations: 0 });
  });

  it('speaks SQS’s JSON protocol to the real client: MD5 of the body, queue errors by name', async () => {
    local = await startLocal(
      { QUEUE_MAX_RECEIVE_COUNT: '1', WORKER_TIMEOUT_MS: '50', WORKER_TIME_MARGIN_MS: '0' },
      { server: { queue: { visibilityTimeoutMs: 100, maxInvocations: 1, batchSize: 10 } } },
    );
    const sqs = new SQSClient({ endpoint: new URL(local.queue.url).origin, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      const sent = await sqs.send(new SendMessageCommand({ QueueUrl: local.queue.url, MessageBody: 'not a job' }));
      expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(sent.MD5OfMessageBody).toBe(createHash('md5').update('not a job').digest('hex'));
      await until(() => local!.queue.deadLetters.length === 1, 'the non-job in the dead-letter queue', 3000);
      await expect(sqs.send(new SendMessageCommand({ QueueUrl: `${local.queue.url}-nope`, MessageBody: 'x' }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
      await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl: local.queue.url }))).rejects.toMatchObject({ name: 'UnsupportedOperation' });
    } finally {
      sqs.destroy();
    }
  });

  it('streams every answer of a batch of ten carried by one worker invocation, each once', async () => {
    // One invocation at a time, and its first answer held until ten more jobs wait in the queue:
    // they then go together as one batch, however slowly this machine sends them.
    const gate = new GatedModel(new MockChatModel({ tokenDelayMs: 5, answerTokens: 40 }));
    local = await startLocal(
      { MAX_CONCURRENT_PER_CONNECTION: '20', MAX_CONCURRENT_PER_USER: '20' },
      { deps: { model: gate }, server: { queue: { visibilityTimeoutMs: 60_000, maxInvocations: 1, batchSize: 10 } } },
    );
    const client = await connect();
    try {
      client.send(ask('first'));
      await until(() => gate.waiting === 1, 'the first answer to start');
      for (let i = 0; i < 10; i += 1) client.send(ask(`batch-${i}`));
      await until(() => local!.queue.depth.messages === 11, 'ten jobs waiting behind the first');
    } finally {
      gate.open();
    }
    const ends = await Promise.all(Array.from({ length: 10 }, (_, i) => client.terminal(`batch-${i}`, 10_000)));
    expect(ends.map((f) => f.type)).toEqual(Array(10).fill('done'));
    for (let i = 0; i < 10; i += 1) {
      const chunks = client.of(`batch-${i}`).filter((f) => f.type === 'chunk');
      expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, n) => n));
    }
    expect(local.queue.batchSizes).toEqual([1, 10]);
    await client.close();
  });
});
