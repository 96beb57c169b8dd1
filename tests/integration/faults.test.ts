import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { LocalServerConfig } from '../../src/config/local';
import type { ManagementApiOptions, PostFault } from '../../src/local/management-api';
import type { LocalGateway } from '../../src/local/emulator';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import { mockAnswerTokens } from '../../src/llm/mock';
import { BedrockEmulator, type Scenario } from '../helpers/bedrock-emulator';
import { messageBytes } from '../../src/services/conversation-bytes';
import { allMessages, conversationsOf, one, streamWith, turn } from '../helpers/conversation-turns';
import { CrashingModel } from '../helpers/crashing-model';
import { OpenAiStandIn, type OpenAiScenario } from '../helpers/openai-standin';
import { dynamoClient, startDynalite } from '../helpers/dynamo';
import { connectTracked, quiesce, startLocal } from '../helpers/local';
import { STORE_MODES } from '../helpers/store-modes';
import { sleep, until, type Frame, type TestClient } from '../helpers/ws-client';

/**
 * Fault injection: each fault, the outcome the client sees, and the same leak checks after every
 * one — no request record left, no concurrency slot held, the queue empty, no unhandled
 * rejection, and the gateway still serving the same connection (or, if it is gone, its record
 * removed).
 */

const ask = (requestId: string, content = 'tell me something') => ({ action: 'llm/stream', requestId, data: { messages: [{ role: 'user', content }] } });
const chunksOf = (frames: Frame[]): Frame[] => frames.filter((f) => f.type === 'chunk');
const contiguous = (frames: Frame[]): boolean => chunksOf(frames).every((f, i) => f.seq === i);

interface Rig {
  local: LocalGateway;
  client: TestClient;
  connectionId: string;
}

describe.each(STORE_MODES)('fault injection, with leak checks, %s mode', (_name, makeMode) => {
  const mode = makeMode();
  afterAll(() => mode.stop());
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  let rig: Rig | undefined;

  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => process.off('unhandledRejection', onUnhandled));
  afterEach(async () => {
    await rig?.client.close();
    await rig?.local.stop();
    rig = undefined;
  });

  async function start(
    env: Record<string, string>,
    options: { beforePost?: ManagementApiOptions['beforePost']; bedrock?: BedrockRuntimeClient; model?: ChatModel; server?: Partial<LocalServerConfig> } = {},
  ): Promise<Rig> {
    const local = await mode.start(
      { MOCK_TOKEN_DELAY_MS: '5', MOCK_ANSWER_TOKENS: '60', ...env },
      {
        ...(options.beforePost ? { beforePost: options.beforePost } : {}),
        ...(options.bedrock ? { clients: { bedrockClient: options.bedrock } } : {}),
        ...(options.model ? { model: options.model } : {}),
        ...(options.server ? { server: options.server } : {}),
      },
    );
    const { client, connectionId } = await connectTracked(local);
    rig = { local, client, connectionId };
    return rig;
  }

  /** Nothing left behind, and (unless the client is gone) the connection still answers. */
  async function assertNoLeaks(r: Rig, clientGone = false): Promise<void> {
    await until(async () => (await mode.leftovers(r.local)).requests === 0, 'no request record left', 5000);
    await until(async () => (await mode.leftovers(r.local)).slots === 0, 'no concurrency slot held', 5000);
    await until(() => r.local.queue.depth.messages === 0 && r.local.queue.depth.invocations === 0, 'the queue empty', 5000);
    expect(r.local.queue.deadLetters).toEqual([]);
    expect(unhandled).toEqual([]);
    if (clientGone) {
      expect(await r.local.gateway.deps.connections.get(r.connectionId)).toBeUndefined();
    } else {
      r.client.send({ action: 'ping', requestId: 'still-there' });
      await r.client.waitFor((frames) => frames.some((f) => f.requestId === 'still-there' && f.type === 'pong'), 3000, 'a pong');
    }
  }

  /** Asks once; the answer ends with exactly one error frame like `expected`, after contiguous chunks (some, if `partial`). */
  async function expectOneErrorAfterText(r: Rig, requestId: string, expected: Record<string, unknown>, partial: boolean): Promise<void> {
    r.client.send(ask(requestId));
    expect(await r.client.terminal(requestId, 10_000)).toMatchObject({ type: 'error', ...expected });
    const frames = r.client.of(requestId);
    expect(frames.filter((f) => f.type === 'error')).toHaveLength(1);
    expect(contiguous(frames)).toBe(true);
    expect(chunksOf(frames).length > 0).toBe(partial);
  }

  /** Fails posts of this connection from the `from`-th chunk on, `times` times (Infinity: for good). */
  function faultFromChunk(status: number, errorType: string, from: number, times: number): ManagementApiOptions['beforePost'] {
    let injected = 0;
    return (_id, data): PostFault | undefined => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === 'chunk' && (frame.seq as number) >= from && injected < times) {
        injected += 1;
        return { status, errorType };
      }
      return undefined;
    };
  }

  describe('the management API', () => {
    it('410 Gone mid-stream: the generation stops, the connection record goes, nothing more is sent', async () => {
      const r = await start({}, { beforePost: faultFromChunk(410, 'GoneException', 2, Infinity) });
      r.client.send(ask('gone'));
      await r.client.waitFor((frames) => chunksOf(frames).length >= 2, 5000, 'two chunks');
      await assertNoLeaks(r, true);
      const seen = r.client.frames.length;
      await quiesce(r.local);
      expect(r.client.frames.length).toBe(seen);
      expect(r.client.of('gone').some((f) => f.type === 'done')).toBe(false);
    });

    it('429 LimitExceeded mid-stream: retried by the SDK, the answer arrives whole', async () => {
      const r = await start({}, { beforePost: faultFromChunk(429, 'LimitExceededException', 1, 2) });
      r.client.send(ask('throttled'));
      expect(await r.client.terminal('throttled', 10_000)).toMatchObject({ type: 'done' });
      expect(contiguous(r.client.of('throttled'))).toBe(true);
      await assertNoLeaks(r);
    });

    it('500 twice mid-stream: retried by the SDK, the answer arrives whole', async () => {
      const r = await start({}, { beforePost: faultFromChunk(500, 'InternalServerErrorException', 1, 2) });
      r.client.send(ask('flaky'));
      expect(await r.client.terminal('flaky', 10_000)).toMatchObject({ type: 'done' });
      expect(contiguous(r.client.of('flaky'))).toBe(true);
      await assertNoLeaks(r);
    });

    it('500 for good mid-stream: the generation stops and gives everything back; the client keeps what it got', async () => {
      const r = await start({ POST_MAX_ATTEMPTS: '2' }, { beforePost: faultFromChunk(500, 'InternalServerErrorException', 1, Infinity) });
      r.client.send(ask('broken'));
      await r.client.waitFor((frames) => chunksOf(frames).length >= 1, 5000, 'the first chunk');
      await assertNoLeaks(r);
      expect(r.client.of('broken').some((f) => f.type === 'done')).toBe(false);
    });

    it('slow posts (150 ms each): the answer arrives whole and in order, nothing left behind', async () => {
      // That slow posts mean fewer, larger frames is ChunkStream's unit test (by the order of
      // events); a count compared here would depend on how loaded this machine is.
      const slow = await start({}, { beforePost: async () => { await sleep(150); return undefined; } });
      slow.client.send(ask('slow', 'same question'));
      expect(await slow.client.terminal('slow', 15_000)).toMatchObject({ type: 'done' });
      expect(contiguous(slow.client.of('slow'))).toBe(true);
      expect(chunksOf(slow.client.of('slow')).map((f) => String(f.content)).join('')).toBe(mockAnswerTokens('same question', 60).join(''));
      await assertNoLeaks(slow);
    });
  });

  describe('what grows with the model, and refusals at the limits', () => {
    /** Answers with one `write_file` call whose input is `kb` KB. */
    const fileWriter = (kb: number): ChatModel => ({
      async *stream(request: ChatModelRequest): AsyncIterable<ChatModelEvent> {
        const input = JSON.stringify({ path: 'f.txt', content: 'y'.repeat(kb * 1024) });
        for (let i = 0; i < input.length; i += 16_384) {
          yield { type: 'tool_delta', toolUseId: 'w1', name: 'write_file', inputDelta: input.slice(i, i + 16_384) };
          await new Promise((resolve) => setImmediate(resolve));
        }
        yield { type: 'end', stopReason: 'tool_use', usage: { inputTokens: 3, outputTokens: 9, totalTokens: 12 }, modelId: request.modelId };
      },
    });

    it('a 420 KB tool input: done lists it as inputOmitted, every frame fits, nothing left', async () => {
      const r = await start({}, { model: fileWriter(420) });
      r.client.send(ask('file'));
      expect(await r.client.terminal('file', 10_000)).toMatchObject({ type: 'done', toolUses: [{ toolUseId: 'w1', name: 'write_file', inputOmitted: true }] });
      for (const text of r.client.raw) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(128 * 1024);
      await assertNoLeaks(r);
    });

    it('the terminal frame refused as too large (413): the request ends with one internal_error instead, nothing left', async () => {
      const refuseDone = (_id: string, data: Buffer): PostFault | undefined =>
        (JSON.parse(data.toString()) as Frame).type === 'done' ? { status: 413, errorType: 'PayloadTooLargeException' } : undefined;
      const r = await start({}, { beforePost: refuseDone });
      r.client.send(ask('refused-end'));
      expect(await r.client.terminal('refused-end', 10_000)).toMatchObject({ type: 'error', code: 'internal_error', retryable: true });
      expect(r.client.of('refused-end').filter((f) => f.type === 'error' || f.type === 'done')).toHaveLength(1);
      await assertNoLeaks(r);
    });

    it('a request refused on tokens beside a running one: each ends once, the refused one takes nothing', async () => {
      const r = await start({ RATE_LIMIT_TOKENS_PER_MINUTE: '5000', MOCK_TOKEN_DELAY_MS: '20' });
      r.client.send(ask('running'));
      await r.client.waitFor((frames) => frames.some((f) => f.requestId === 'running' && f.type === 'accepted'), 5000, 'the first accepted');
      r.client.send({ action: 'llm/stream', requestId: 'heavy', data: { messages: [{ role: 'user', content: 'more' }], inferenceConfig: { maxTokens: 4096 } } });
      expect(await r.client.terminal('heavy', 10_000)).toMatchObject({ type: 'error', code: 'rate_limited', message: 'Rate limit reached: 5000 tokens per minute.' });
      expect(await r.client.terminal('running', 10_000)).toMatchObject({ type: 'done' });
      await assertNoLeaks(r);
      // Nothing of the refused one is held: alone now, the same reservation fits.
      r.client.send({ action: 'llm/stream', requestId: 'heavy-again', data: { messages: [{ role: 'user', content: 'more' }], inferenceConfig: { maxTokens: 3900 } } });
      expect(await r.client.terminal('heavy-again', 10_000)).toMatchObject({ type: 'done' });
    });
  });

  describe('Bedrock (the ConverseStream emulator, real SDK client)', () => {
    let bedrock: BedrockEmulator;
    let client: BedrockRuntimeClient;
    const MODEL = 'us.amazon.nova-lite-v1:0';
    beforeAll(async () => {
      bedrock = await new BedrockEmulator().start();
      client = new BedrockRuntimeClient({ endpoint: bedrock.endpoint, region: 'us-east-1', maxAttempts: 2, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    });
    afterAll(async () => {
      client.destroy();
      await bedrock.stop();
    });
    const bedrockEnv = { LLM_PROVIDER: 'bedrock', ALLOWED_MODEL_IDS: MODEL, MODEL_IDLE_TIMEOUT_MS: '300', MODEL_FIRST_TOKEN_TIMEOUT_MS: '3000' };
    const words = Array.from({ length: 20 }, (_, i) => `w${i} `);

    it.each<[string, Scenario, Record<string, unknown>, boolean]>([
      ['throttling (429, after the SDK’s retry)', { kind: 'http-error', status: 429, errorType: 'ThrottlingException', retryAfter: '1' }, { code: 'upstream_throttled', retryable: true }, false],
      ['an exception event mid-stream', { kind: 'exception', tokens: words, after: 5, exception: 'modelStreamErrorException' }, { code: 'upstream_error' }, true],
      ['a stall mid-stream', { kind: 'stall', tokens: words, after: 5 }, { code: 'upstream_timeout', retryable: true }, true],
    ])('%s: one error frame after the text so far', async (_name, scenario, expected, partial) => {
      bedrock.scenario = () => scenario;
      const r = await start(bedrockEnv, { bedrock: client });
      await expectOneErrorAfterText(r, 'b', expected, partial);
      await assertNoLeaks(r);
    });
  });

  describe('an OpenAI-compatible server (the Chat Completions stand-in, official SDK)', () => {
    let server: OpenAiStandIn;
    beforeAll(async () => {
      server = await new OpenAiStandIn().start();
    });
    afterAll(() => server.stop());
    const words = Array.from({ length: 20 }, (_, i) => `w${i} `);

    it.each<[string, OpenAiScenario, Record<string, unknown>, boolean]>([
      ['throttling (429 with retry-after, after the SDK’s retry)', { kind: 'http-error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '1' } }, { code: 'upstream_throttled', retryable: true, retryAfterMs: 1000 }, false],
      ['a server error (500, after the SDK’s retry)', { kind: 'http-error', status: 500, message: 'boom' }, { code: 'upstream_error', retryable: true }, false],
      ['an error event mid-stream', { kind: 'error-event', tokens: words, after: 5, message: 'model crashed' }, { code: 'upstream_error', retryable: true }, true],
      ['a connection cut mid-stream', { kind: 'break', tokens: words, after: 5 }, { code: 'upstream_error', retryable: true }, true],
      ['a stall mid-stream', { kind: 'stall', tokens: words, after: 5 }, { code: 'upstream_timeout', retryable: true }, true],
    ])('%s: one error frame after the text so far', async (_name, scenario, expected, partial) => {
      server.requests.length = 0;
      server.scenario = () => scenario;
      const r = await start({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: 'sk-faults-0123456789', OPENAI_MAX_ATTEMPTS: '2', ALLOWED_MODEL_IDS: 'gpt-test', MODEL_IDLE_TIMEOUT_MS: '300', MODEL_FIRST_TOKEN_TIMEOUT_MS: '3000' });
      await expectOneErrorAfterText(r, 'o', expected, partial);
      // An HTTP error is retried by the SDK before the stream (OPENAI_MAX_ATTEMPTS 2); a failure inside it never is.
      expect(server.requests).toHaveLength(scenario.kind === 'http-error' ? 2 : 1);
      if (scenario.kind === 'stall') expect(server.requests[0]!.closedEarly).toBe(true);
      await assertNoLeaks(r);
    });
  });

  // Once, not per mode: it brings its own dynalite to stop.
  if (_name === 'DynamoDB') describe('DynamoDB', () => {
    it('endpoint down: a typed, retryable error frame, and the process and the socket survive', async () => {
      const dynalite = await startDynalite();
      const db = dynamoClient(dynalite.endpoint, 1);
      const local = await startLocal({ DYNAMODB_ENDPOINT: dynalite.endpoint, DYNAMODB_MAX_ATTEMPTS: '1' }, { clients: { dynamoClient: db } });
      try {
        const { client } = await connectTracked(local);
        try {
          await dynalite.stop();
          client.send(ask('no-db'));
          expect(await client.terminal('no-db', 10_000)).toMatchObject({ type: 'error', code: 'internal_error', retryable: true });
          client.send({ action: 'ping', requestId: 'alive' });
          await client.waitFor((frames) => frames.some((f) => f.type === 'pong'), 3000, 'a pong');
          expect(local.queue.depth).toEqual({ messages: 0, invocations: 0 });
          expect(unhandled).toEqual([]);
        } finally {
          await client.close();
        }
      } finally {
        await local.stop();
        db.destroy();
      }
    });
  });

  // Worker crash and redelivery of a stateless answer: tests/integration/queue.test.ts ("a
  // worker dies mid-answer"), with the same checks: one error frame, no record left, the slot given back.

  describe('a conversation’s turn, under a worker crash and a redelivered job', () => {
    /** The worker "times out" after 600 ms; SQS shows its message again after 900 ms. */
    const CRASH_ENV = { WORKER_TIME_MARGIN_MS: '0', WORKER_TIMEOUT_MS: '600', QUEUE_MAX_RECEIVE_COUNT: '3', RESUME_CHECKPOINT_MS: '0' };
    const CRASH_QUEUE: Partial<LocalServerConfig> = { queue: { visibilityTimeoutMs: 900, maxInvocations: 5, batchSize: 10 } };
    let model: CrashingModel | undefined;
    afterEach(() => model?.release());

    const create = async (r: Rig): Promise<string> => String((await one(r.client, 'conv/create')).conversation.conversationId);
    const answered = async (r: Rig, conversationId: string, text: string, extra: Record<string, unknown> = {}): Promise<Frame> => {
      const end = (await turn(r.client, conversationId, text, extra)).at(-1)!;
      expect(end).toMatchObject({ type: 'done' });
      return end;
    };

    /**
     * Each user message and each answer once: indexes increasing, a user message then its one
     * answer, the user messages `questions` in order, every message's request once, the count
     * the conversation shows the count it holds, nothing running — and a next turn answered.
     */
    async function expectOnce(r: Rig, conversationId: string, questions: readonly string[]): Promise<Frame[]> {
      const items = await allMessages(r.client, conversationId);
      const indexes = items.map((m) => Number(String(m.messageId).slice(1)));
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
      expect(new Set(indexes).size).toBe(indexes.length);
      expect(items.map((m) => m.role)).toEqual(items.map((_, i) => (i % 2 === 0 ? 'user' : 'assistant')));
      expect(items.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(questions);
      for (const role of ['user', 'assistant']) {
        const ids = items.filter((m) => m.role === role).map((m) => m.requestId);
        expect(new Set(ids).size).toBe(ids.length);
      }
      const listed = ((await one(r.client, 'conv/list')).items as Frame[]).find((c) => c.conversationId === conversationId)!;
      expect(listed.messageCount).toBe(items.length);
      expect(listed.running).toBeUndefined();
      // The bytes it counts toward its owner's limit are what it holds (auth off: the owner is the address).
      const store = conversationsOf(r.local);
      const held = (await store.history(conversationId)).reduce((sum, m) => sum + messageBytes(m), 0);
      expect((await store.get('ip:127.0.0.1', conversationId))?.bytes).toBe(held);
      const next = await answered(r, conversationId, 'and next?');
      const after = await allMessages(r.client, conversationId);
      expect(after.slice(0, items.length)).toEqual(items);
      expect(after.slice(items.length).map((m) => [m.messageId, m.role, m.requestId])).toEqual([
        [next.conversation.userMessageId, 'user', next.requestId],
        [next.conversation.messageId, 'assistant', next.requestId],
      ]);
      return items;
    }

    it.each<[string, (r: Rig, conversationId: string) => Promise<Frame[]>, string[]]>([
      ['a new message', (r, id) => turn(r.client, id, 'q3'), ['q1', 'q2', 'q3']],
      ['a regeneration', (r, id) => streamWith(r.client, { conversationId: id, regenerate: true }), ['q1', 'q2']],
      ['an edit', (r, id) => turn(r.client, id, 'q2, edited', { editFrom: 'm2' }), ['q1', 'q2, edited']],
    ])('%s whose worker dies mid-answer: the redelivery ends it once, its messages each once, the answer interrupted, the conversation free', async (_kind, send, questions) => {
      model = new CrashingModel();
      const r = await start(CRASH_ENV, { model, server: CRASH_QUEUE });
      const conversationId = await create(r);
      await answered(r, conversationId, 'q1');
      await answered(r, conversationId, 'q2');
      model.crashNext();
      const frames = await send(r, conversationId);
      expect(frames.at(-1)).toMatchObject({ type: 'error', code: 'internal_error', retryable: true, message: 'The answer was interrupted; please retry.' });
      expect(frames.filter((f) => f.type === 'error' || f.type === 'done')).toHaveLength(1);
      expect(chunksOf(frames).map((f) => String(f.content)).join('')).toBe('one two three ');
      // The dead worker wakes: what it then tries to keep changes nothing.
      model.release();
      await quiesce(r.local, r.client);
      const items = await expectOnce(r, conversationId, questions);
      expect(items.at(-1)).toMatchObject({ role: 'assistant', status: 'interrupted', requestId: frames[0]!.requestId });
      // It holds what the log held of it: with a checkpoint after each frame, all the client saw.
      expect(items.at(-1)!.content).toEqual([{ type: 'text', text: 'one two three ' }]);
      await assertNoLeaks(r);
    });

    it('a job delivered again while it answers, and once more after it ended: one answer, streamed once, its messages written once', async () => {
      const r = await start({ MOCK_TOKEN_DELAY_MS: '10', MOCK_ANSWER_TOKENS: '60' });
      const jobs = jest.spyOn(r.local.queue, 'send');
      const conversationId = await create(r);
      await answered(r, conversationId, 'q1');
      const requestId = 'twice';
      r.client.send({ action: 'llm/stream', requestId, data: { conversationId, message: { role: 'user', content: 'q2' } } });
      await r.client.waitFor((frames) => frames.some((f) => f.requestId === requestId && f.type === 'chunk'), 5000, 'the first chunk');
      const body = jobs.mock.calls.at(-1)![0];
      expect(JSON.parse(body)).toMatchObject({ requestId, conversation: { conversationId, kind: 'send' } });
      r.local.queue.send(body);
      expect(await r.client.terminal(requestId, 10_000)).toMatchObject({ type: 'done', conversation: { userMessageId: 'm2', messageId: 'm3' } });
      await quiesce(r.local, r.client);
      r.local.queue.send(body);
      await quiesce(r.local, r.client);
      const frames = r.client.of(requestId);
      expect(frames.filter((f) => f.type === 'done' || f.type === 'error')).toHaveLength(1);
      expect(contiguous(frames)).toBe(true);
      expect(chunksOf(frames).map((f) => String(f.content)).join('')).toBe(mockAnswerTokens('q2', 60).join(''));
      const items = await expectOnce(r, conversationId, ['q1', 'q2']);
      expect(items[3]).toMatchObject({ status: 'complete', content: [{ type: 'text', text: mockAnswerTokens('q2', 60).join('') }] });
      jobs.mockRestore();
      await assertNoLeaks(r);
    });

    it('a turn cancelled while its job waits in the queue: cancelled once, nothing of it kept, the conversation free', async () => {
      model = new CrashingModel();
      // One worker invocation at a time, held by a stateless answer at the gate while the turn waits behind it.
      const r = await start({}, { model, server: { queue: { visibilityTimeoutMs: 60_000, maxInvocations: 1, batchSize: 1 } } });
      const conversationId = await create(r);
      await answered(r, conversationId, 'q1');
      model.holdNext();
      r.client.send(ask('blocker'));
      await until(() => model!.held === 1, 'the blocker to hold the worker');
      const requestId = 'queued';
      r.client.send({ action: 'llm/stream', requestId, data: { conversationId, message: { role: 'user', content: 'never mind' } } });
      await r.client.waitFor((frames) => frames.some((f) => f.requestId === requestId && f.type === 'accepted'), 5000, 'the turn accepted');
      r.client.send({ action: 'llm/cancel', requestId });
      // The route marks the stream cancelled; the worker that claims the job ends it, before any model call.
      const { requests, streams } = r.local.gateway.deps;
      const streamKey = (await requests.held(r.connectionId, requestId))!.streamKey!;
      await until(async () => (await streams.get(streamKey))?.cancelled === true, 'the stream marked cancelled');
      model.release();
      expect(await r.client.terminal('blocker', 10_000)).toMatchObject({ type: 'done' });
      expect(await r.client.terminal(requestId, 10_000)).toMatchObject({ type: 'error', code: 'cancelled' });
      await quiesce(r.local, r.client);
      expect(r.client.of(requestId).filter((f) => f.type === 'error' || f.type === 'done')).toHaveLength(1);
      await expectOnce(r, conversationId, ['q1']);
      await assertNoLeaks(r);
    });
  });
});
