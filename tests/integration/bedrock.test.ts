import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { LocalGateway } from '../../src/local/emulator';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { BedrockEmulator, type Scenario } from '../helpers/bedrock-emulator';
import { startLocal } from '../helpers/local';
import { TestClient, until, type Frame } from '../helpers/ws-client';

const CLAUDE = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const NOVA = 'amazon.nova-lite-v1:0';
const FALLBACK = 'amazon.nova-micro-v1:0';
const MANY = Array.from({ length: 200 }, (_, i) => `w${i} `);

describe('Amazon Bedrock through the real SDK client, against a ConverseStream emulator', () => {
  let bedrock: BedrockEmulator;
  let client: BedrockRuntimeClient;
  let local: LocalGateway;
  let ws: TestClient;
  let requests: MemoryRequestStore;

  beforeAll(async () => {
    bedrock = await new BedrockEmulator().start();
    client = new BedrockRuntimeClient({
      endpoint: bedrock.endpoint,
      region: 'us-east-1',
      maxAttempts: 2,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    requests = new MemoryRequestStore();
    local = await startLocal(
      {
        LLM_PROVIDER: 'bedrock',
        ALLOWED_MODEL_IDS: `${CLAUDE},${NOVA}`,
        MODEL_FALLBACKS: `${NOVA}=${FALLBACK}`,
        MODEL_FIRST_TOKEN_TIMEOUT_MS: '3000',
        MODEL_IDLE_TIMEOUT_MS: '300',
        // A client that leaves stops the call at once (no resume grace).
        RESUME_GRACE_SECONDS: '0',
      },
      { clients: { bedrockClient: client }, deps: { requests } },
    );
    ws = await TestClient.connect(local.url);
  });
  beforeEach(() => {
    bedrock.requests.length = 0;
  });
  afterAll(async () => {
    await ws.close();
    await local.stop();
    client.destroy();
    await bedrock.stop();
  });

  let counter = 0;
  async function ask(scenario: Scenario | ((index: number) => Scenario), data: Record<string, unknown> = {}): Promise<{ id: string; frames: Frame[]; end: Frame }> {
    bedrock.scenario = (_request, index) => (typeof scenario === 'function' ? scenario(index) : scenario);
    const id = `b-${(counter += 1)}`;
    ws.send({ action: 'llm/stream', requestId: id, data: { messages: [{ role: 'user', content: 'Hi' }], modelId: CLAUDE, ...data } });
    const end = await ws.terminal(id, 10_000);
    return { id, frames: ws.of(id), end };
  }
  const text = (frames: Frame[]) => frames.filter((f) => f.type === 'chunk').map((f) => f.content as string).join('');

  it('streams an answer end to end and maps the request onto Converse', async () => {
    const { frames, end } = await ask(
      { kind: 'stream', tokens: ['Hello', ', ', 'world'], stopReason: 'end_turn', usage: { inputTokens: 21, outputTokens: 3 } },
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello!' },
          { role: 'user', content: 'Greet the world' },
        ],
        systemPrompt: 'Be brief.',
        inferenceConfig: { maxTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
      },
    );
    expect(text(frames)).toBe('Hello, world');
    expect(end).toMatchObject({ type: 'done', modelId: CLAUDE, stopReason: 'end_turn', usage: { inputTokens: 21, outputTokens: 3, totalTokens: 24 } });
    const [sent] = bedrock.requests;
    expect(sent!.modelId).toBe(CLAUDE);
    expect(sent!.path).toBe(`/model/${encodeURIComponent(CLAUDE)}/converse-stream`);
    expect(sent!.body).toEqual({
      messages: [
        { role: 'user', content: [{ text: 'Hi' }] },
        { role: 'assistant', content: [{ text: 'Hello!' }] },
        { role: 'user', content: [{ text: 'Greet the world' }] },
      ],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { maxTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
    });
    expect(String(sent!.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  it('delivers a slow stream complete and in order', async () => {
    const tokens = Array.from({ length: 30 }, (_, i) => `t${i} `);
    const { frames, end } = await ask({ kind: 'stream', tokens, delayMs: 15 });
    expect(end.type).toBe('done');
    expect(text(frames)).toBe(tokens.join(''));
    const chunks = frames.filter((f) => f.type === 'chunk');
    expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, i) => i));
  });

  it.each([
    ['ThrottlingException', 429],
    ['ServiceQuotaExceededException', 429],
  ])('retries HTTP %s before the stream, then answers upstream_throttled with retryAfterMs', async (errorType, status) => {
    const { frames, end } = await ask({ kind: 'http-error', status, errorType, retryAfter: '2' });
    expect(bedrock.requests).toHaveLength(2); // maxAttempts: the SDK retried with backoff
    expect(end).toMatchObject({ type: 'error', code: 'upstream_throttled', retryable: true, retryAfterMs: 2000 });
    expect(frames.map((f) => f.type)).toEqual(['accepted', 'error']);
  });

  it.each([
    ['throttlingException', 'upstream_throttled'],
    ['modelStreamErrorException', 'upstream_error'],
    ['validationException', 'invalid_request'],
    ['internalServerException', 'upstream_error'],
    ['serviceUnavailableException', 'upstream_error'],
    ['modelTimeoutException', 'upstream_timeout'],
  ])('an exception event %s mid-stream ends with %s after the chunks already sent, never done', async (exception, code) => {
    const { frames, end } = await ask({ kind: 'exception', tokens: ['one ', 'two ', 'three '], after: 2, exception });
    expect(end).toMatchObject({ type: 'error', code });
    expect(text(frames)).toBe('one two ');
    expect(frames.some((f) => f.type === 'done')).toBe(false);
    expect(frames.at(-1)).toBe(end);
  });

  it('a ValidationException for the model id answers model_not_allowed naming the model, not echoing Bedrock\'s text', async () => {
    const { end } = await ask({ kind: 'http-error', status: 400, errorType: 'ValidationException', message: 'The provided model identifier is invalid.' });
    expect(end).toMatchObject({ code: 'model_not_allowed', retryable: false });
    expect(end.message).toContain(CLAUDE);
    expect(end.message).not.toContain('model identifier is invalid');
  });

  it('any other ValidationException answers invalid_request with a fixed message: Bedrock\'s text (which may quote the prompt) stays in the log', async () => {
    const { end } = await ask({ kind: 'http-error', status: 400, errorType: 'ValidationException', message: 'messages.0.content: the secret plan of user 123456789012 is malformed' });
    expect(end).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(end.message).not.toMatch(/secret plan|123456789012/);
  });

  it('a ValidationException for a too-long context answers invalid_request saying so', async () => {
    const { end } = await ask({ kind: 'http-error', status: 400, errorType: 'ValidationException', message: 'Input is too long for requested model.' });
    expect(end).toMatchObject({ code: 'invalid_request' });
    expect(end.message).toMatch(/too long/);
  });

  it.each([
    ['AccessDeniedException', 403, /enable model access/],
    ['ResourceNotFoundException', 404, /not found in this region/],
  ])('%s tells the operator what to enable, leaking no account detail', async (errorType, status, advice) => {
    const secret = `You don't have access to the model with the specified model ID. arn:aws:bedrock:us-east-1:123456789012:inference-profile/${CLAUDE} (account 123456789012)`;
    const { end } = await ask({ kind: 'http-error', status, errorType, message: secret });
    expect(end).toMatchObject({ type: 'error', code: 'upstream_error' });
    expect(end.message).toMatch(advice);
    expect(JSON.stringify(end)).not.toMatch(/123456789012|arn:aws/);
  });

  it('cancel mid-stream stops the HTTP/2 stream at Bedrock', async () => {
    bedrock.scenario = () => ({ kind: 'stream', tokens: MANY, delayMs: 10 });
    ws.send({ action: 'llm/stream', requestId: 'stop-me', data: { messages: [{ role: 'user', content: 'Hi' }], modelId: CLAUDE } });
    await ws.waitFor((frames) => frames.some((f) => f.requestId === 'stop-me' && f.type === 'chunk'));
    ws.send({ action: 'llm/cancel', requestId: 'stop-me' });
    expect(await ws.terminal('stop-me')).toMatchObject({ code: 'cancelled' });
    await until(() => bedrock.requests[0]?.aborted === true, 'the emulator to see the abort');
    expect(bedrock.requests[0]!.written).toBeLessThan(MANY.length);
  });

  it('a client that leaves mid-stream stops the generation at Bedrock', async () => {
    const leaver = await TestClient.connect(local.url);
    bedrock.scenario = () => ({ kind: 'stream', tokens: MANY, delayMs: 10 });
    leaver.send({ action: 'llm/stream', requestId: 'leave', data: { messages: [{ role: 'user', content: 'Hi' }], modelId: CLAUDE } });
    await leaver.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    leaver.socket.terminate();
    await until(() => bedrock.requests[0]?.aborted === true, 'the emulator to see the abort');
    await until(() => requests.size === 0, 'the request record to go');
    expect(bedrock.requests[0]!.written).toBeLessThan(MANY.length);
  });

  it('a stream that stalls ends with upstream_timeout and is aborted at Bedrock', async () => {
    const { frames, end } = await ask({ kind: 'stall', tokens: ['a ', 'b ', 'c '], after: 2 });
    expect(end).toMatchObject({ code: 'upstream_timeout', retryable: true });
    expect(text(frames)).toBe('a b ');
    await until(() => bedrock.requests[0]?.aborted === true, 'the abort');
  });

  it('no first token in time ends with upstream_timeout', async () => {
    const started = Date.now();
    const { end } = await ask({ kind: 'stall', tokens: [], after: 0 });
    expect(end).toMatchObject({ code: 'upstream_timeout', message: expect.stringMatching(/first token within 3000 ms/) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });

  it('falls back to the configured model when the first fails before any chunk', async () => {
    const { frames, end } = await ask(
      (index) => (index < 2 ? { kind: 'http-error', status: 429, errorType: 'ThrottlingException' } : { kind: 'stream', tokens: ['from ', 'fallback'] }),
      { modelId: NOVA },
    );
    expect(bedrock.requests.map((r) => r.modelId)).toEqual([NOVA, NOVA, FALLBACK]);
    expect(frames[0]).toMatchObject({ type: 'accepted', modelId: NOVA });
    expect(end).toMatchObject({ type: 'done', modelId: FALLBACK });
    expect(text(frames)).toBe('from fallback');
  });

  it('never falls back once a chunk was sent', async () => {
    const { end } = await ask({ kind: 'exception', tokens: ['x ', 'y '], after: 1, exception: 'serviceUnavailableException' }, { modelId: NOVA });
    expect(end).toMatchObject({ code: 'upstream_error' });
    await local.idle();
    expect(bedrock.requests.map((r) => r.modelId)).toEqual([NOVA]);
  });
});

describe('Amazon Bedrock without usable credentials', () => {
  it('says so at start, and answers with a non-retryable error that tells the operator what to do', async () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    // No endpoint is ever reached: signing fails first, as on a machine with no AWS credentials.
    const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, credentials: () => Promise.reject(noCredentials) });
    const local = await startLocal({ LLM_PROVIDER: 'bedrock', ALLOWED_MODEL_IDS: CLAUDE }, { clients: { bedrockClient: client } });
    const ws = await TestClient.connect(local.url);
    try {
      expect(await local.gateway.deps.model.preflight?.()).toMatch(/no valid AWS credentials.*AWS_PROFILE/);
      ws.send({ action: 'llm/stream', requestId: 'nc', data: { messages: [{ role: 'user', content: 'Hi' }] } });
      expect(await ws.terminal('nc')).toMatchObject({ type: 'error', code: 'upstream_error', retryable: false, message: expect.stringContaining('no valid AWS credentials') });
    } finally {
      await ws.close();
      await local.stop();
      client.destroy();
    }
  });
});
