import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import OpenAI from 'openai';
import { loadConfig } from '../../src/config/config';
import { createApiKeySource, createOpenAiClient } from '../../src/llm/openai-provider';
import type { ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import { OpenAiChatModel } from '../../src/llm/openai';
import { secretsManagerKey, staticKey } from '../../src/llm/openai-key';
import { withTimeouts } from '../../src/llm/resilience';
import { GatewayError } from '../../src/models/errors';
import { OpenAiStandIn, type OpenAiScenario } from '../helpers/openai-standin';
import { SecretsStandIn } from '../helpers/secrets-standin';
import { until } from '../helpers/ws-client';

/**
 * The openai provider with the official SDK against a wire-level Chat Completions stand-in:
 * request mapping, streaming, usage, every error mapping, aborts that close the connection.
 */
const KEY = 'sk-test-0123456789abcdef';
const ask = (over: Partial<ChatModelRequest> = {}): ChatModelRequest => ({
  modelId: 'gpt-test',
  messages: [{ role: 'user', content: 'hi there' }],
  inferenceConfig: {},
  ...over,
});

async function collect(stream: AsyncIterable<ChatModelEvent>): Promise<{ events: ChatModelEvent[]; error?: unknown }> {
  const events: ChatModelEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

describe('the openai provider (official SDK, Chat Completions SSE stand-in)', () => {
  let server: OpenAiStandIn;
  let client: OpenAI;
  const model = (field: 'max_tokens' | 'max_completion_tokens' = 'max_tokens'): OpenAiChatModel => new OpenAiChatModel(client, staticKey(KEY), field);

  beforeAll(async () => {
    server = await new OpenAiStandIn().start();
    const config = loadConfig({ MANAGEMENT_API_ENDPOINT: 'http://127.0.0.1:1/prod', JOB_QUEUE_URL: 'http://127.0.0.1:1/q', LLM_PROVIDER: 'openai', OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: KEY, OPENAI_MAX_ATTEMPTS: '1', ALLOWED_MODEL_IDS: 'gpt-test' });
    client = createOpenAiClient(config, createApiKeySource(config, () => { throw new Error('no secret here'); }));
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.scenario = () => ({ kind: 'stream', tokens: ['Hello', ', ', 'world'] });
  });

  it('maps the request: system prompt first, inference settings, the max-tokens field the endpoint takes, usage asked for', async () => {
    await collect(model('max_completion_tokens').stream(ask({ systemPrompt: 'be brief', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }], inferenceConfig: { maxTokens: 50, temperature: 0.2, topP: 0.9, stopSequences: ['END'] } }), new AbortController().signal));
    const [request] = server.requests;
    expect(request!.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(request!.body).toMatchObject({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }],
      max_completion_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
    });
    expect(request!.body).not.toHaveProperty('max_tokens');
    await collect(model('max_tokens').stream(ask({ inferenceConfig: { maxTokens: 7 } }), new AbortController().signal));
    expect(server.requests[1]!.body).toMatchObject({ max_tokens: 7 });
    expect(server.requests[1]!.body).not.toHaveProperty('max_completion_tokens');
  });

  it('streams the deltas in order, then one end with the stop reason in our names and the reported usage', async () => {
    const { events, error } = await collect(model().stream(ask(), new AbortController().signal));
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'delta', text: 'Hello' },
      { type: 'delta', text: ', ' },
      { type: 'delta', text: 'world' },
      { type: 'end', stopReason: 'end_turn', usage: { inputTokens: 11, outputTokens: 3, totalTokens: 14 }, modelId: 'gpt-test' },
    ]);
  });

  it.each([['length', 'max_tokens'], ['content_filter', 'content_filtered'], ['tool_calls', 'tool_use'], ['something_new', 'something_new']])('finish_reason %s reads as %s', async (finishReason, stopReason) => {
    server.scenario = () => ({ kind: 'stream', tokens: ['x'], finishReason });
    const { events } = await collect(model().stream(ask(), new AbortController().signal));
    expect(events.at(-1)).toMatchObject({ type: 'end', stopReason });
  });

  it('estimates the usage, and says so, when the server sends none', async () => {
    server.scenario = () => ({ kind: 'stream', tokens: ['four ', 'words ', 'in ', 'all'], usage: 'none' });
    const { events } = await collect(model().stream(ask(), new AbortController().signal));
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'end', usage: { estimated: true } });
    const usage = end?.type === 'end' ? end.usage : undefined;
    expect(usage!.outputTokens).toBeGreaterThan(0);
    expect(usage!.totalTokens).toBe(usage!.inputTokens + usage!.outputTokens);
  });

  const errorCases: [string, OpenAiScenario, Record<string, unknown>][] = [
    ['429 with retry-after-ms', { kind: 'http-error', status: 429, message: 'Rate limit reached', headers: { 'retry-after-ms': '1500' } }, { code: 'upstream_throttled', retryable: true, retryAfterMs: 1500 }],
    ['429 with retry-after in seconds', { kind: 'http-error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '3' } }, { code: 'upstream_throttled', retryable: true, retryAfterMs: 3000 }],
    ['401 (bad key)', { kind: 'http-error', status: 401, message: `Incorrect API key provided: ${KEY}.`, code: 'invalid_api_key' }, { code: 'upstream_error', retryable: false }],
    ['403', { kind: 'http-error', status: 403, message: 'Project does not have access to model' }, { code: 'upstream_error', retryable: false }],
    ['400 context length', { kind: 'http-error', status: 400, message: "This model's maximum context length is 8192 tokens.", code: 'context_length_exceeded' }, { code: 'invalid_request', retryable: false }],
    ['400 other', { kind: 'http-error', status: 400, message: 'temperature must be at most 2' }, { code: 'invalid_request', retryable: false }],
    ['404 model', { kind: 'http-error', status: 404, message: 'The model `gpt-test` does not exist', code: 'model_not_found' }, { code: 'model_not_allowed', retryable: false }],
    ['500', { kind: 'http-error', status: 500, message: 'The server had an error' }, { code: 'upstream_error', retryable: true }],
    ['503', { kind: 'http-error', status: 503, message: 'overloaded' }, { code: 'upstream_error', retryable: true }],
  ];
  it.each(errorCases)('%s: a typed error, no text, never the key', async (_name, scenario, expected) => {
    server.scenario = () => scenario;
    const { events, error } = await collect(model().stream(ask(), new AbortController().signal));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject(expected);
    expect((error as GatewayError).message).not.toContain(KEY);
    expect((error as GatewayError).message).not.toContain(server.baseUrl);
  });

  it('401 tells the operator which setting to check', async () => {
    server.scenario = () => ({ kind: 'http-error', status: 401, message: 'bad key' });
    const { error } = await collect(model().stream(ask(), new AbortController().signal));
    expect((error as Error).message).toMatch(/OPENAI_API_KEY/);
  });

  it.each([
    ['an error event mid-stream', { kind: 'error-event', tokens: ['a', 'b', 'c', 'd'], after: 2, message: 'model crashed' } as const],
    ['a broken connection mid-stream', { kind: 'break', tokens: ['a', 'b', 'c', 'd'], after: 2 } as const],
    ['a response that ends without a finish reason', { kind: 'truncate', tokens: ['a', 'b', 'c', 'd'], after: 2 } as const],
  ])('%s: the text so far, then a retryable upstream_error, and no end', async (_name, scenario) => {
    server.scenario = () => scenario;
    const { events, error } = await collect(model().stream(ask(), new AbortController().signal));
    expect(events).toEqual([{ type: 'delta', text: 'a' }, { type: 'delta', text: 'b' }]);
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
  });

  it('an abort closes the HTTP connection (the server stops) and ends the stream with the abort reason', async () => {
    server.scenario = () => ({ kind: 'stall', tokens: ['a', 'b'], after: 1 });
    const controller = new AbortController();
    const stream = model().stream(ask(), controller.signal)[Symbol.asyncIterator]();
    expect(await stream.next()).toEqual({ done: false, value: { type: 'delta', text: 'a' } });
    const reason = new Error('cancelled by the client');
    controller.abort(reason);
    await expect(stream.next()).rejects.toBe(reason);
    await until(() => server.requests[0]!.closedEarly, 'the stand-in saw the connection close', 3000);
  });

  it('a stall past the idle timeout is upstream_timeout, and the connection is closed', async () => {
    server.scenario = () => ({ kind: 'stall', tokens: ['a', 'b'], after: 1 });
    const { events, error } = await collect(withTimeouts(model(), { firstTokenTimeoutMs: 2000, idleTimeoutMs: 150 }).stream(ask(), new AbortController().signal));
    expect(events).toEqual([{ type: 'delta', text: 'a' }]);
    expect(error).toMatchObject({ code: 'upstream_timeout', retryable: true });
    await until(() => server.requests[0]!.closedEarly, 'the stand-in saw the connection close', 3000);
  });

  it('no first token within the first-token timeout is upstream_timeout', async () => {
    server.scenario = () => ({ kind: 'stall', tokens: [], after: 0 });
    const { error } = await collect(withTimeouts(model(), { firstTokenTimeoutMs: 150, idleTimeoutMs: 2000 }).stream(ask(), new AbortController().signal));
    expect(error).toMatchObject({ code: 'upstream_timeout' });
    await until(() => server.requests[0]!.closedEarly, 'the stand-in saw the connection close', 3000);
  });

  it('preflight asks the server for its models: fine when listed or when it has no such endpoint; says so when it refuses the key or is down', async () => {
    const m = model();
    server.modelListRequests = 0;
    expect(await m.preflight()).toBeUndefined();
    server.modelList = { status: 404, models: [] };
    expect(await m.preflight()).toBeUndefined();
    server.modelList = { status: 401, models: [] };
    expect(await m.preflight()).toMatch(/refused the gateway's API key.*OPENAI_API_KEY/);
    server.modelList = { status: 200, models: ['gpt-test'] };
    expect(server.modelListRequests).toBe(3);
    const config = loadConfig({ MANAGEMENT_API_ENDPOINT: 'http://127.0.0.1:1/prod', JOB_QUEUE_URL: 'http://127.0.0.1:1/q', LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_API_KEY: KEY, ALLOWED_MODEL_IDS: 'gpt-test' });
    const down = new OpenAiChatModel(createOpenAiClient(config, staticKey(KEY)), staticKey(KEY), 'max_tokens');
    expect(await down.preflight()).toMatch(/^Cannot reach the OpenAI-compatible server at OPENAI_BASE_URL/);
  });

  it('an unreachable server is a retryable upstream_error', async () => {
    const config = loadConfig({ MANAGEMENT_API_ENDPOINT: 'http://127.0.0.1:1/prod', JOB_QUEUE_URL: 'http://127.0.0.1:1/q', LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://user:secret@127.0.0.1:1/v1', OPENAI_API_KEY: KEY, OPENAI_MAX_ATTEMPTS: '1', ALLOWED_MODEL_IDS: 'gpt-test' });
    const offline = new OpenAiChatModel(createOpenAiClient(config, staticKey(KEY)), staticKey(KEY), 'max_tokens');
    const { error } = await collect(offline.stream(ask(), new AbortController().signal));
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect((error as Error).message).not.toMatch(/secret|user:/);
  });
});

describe('the API key from AWS Secrets Manager (real SDK client, JSON 1.1 stand-in)', () => {
  const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-key-AbCdEf';
  let secrets: SecretsStandIn;
  let sm: SecretsManagerClient;
  let server: OpenAiStandIn;
  beforeAll(async () => {
    secrets = await new SecretsStandIn(new Map([[ARN, KEY], [`${ARN}-json`, JSON.stringify({ apiKey: 'sk-from-json-0123456789' })]])).start();
    sm = new SecretsManagerClient({ endpoint: secrets.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
    server = await new OpenAiStandIn().start();
  });
  afterAll(async () => {
    sm.destroy();
    await secrets.stop();
    await server.stop();
  });

  it('is fetched once, at creation (cold start), signed, and sent to the provider as the bearer token', async () => {
    secrets.calls.length = 0;
    const key = secretsManagerKey(sm, ARN);
    await until(() => secrets.calls.length === 1, 'the fetch at creation', 3000);
    const config = loadConfig({ MANAGEMENT_API_ENDPOINT: 'http://127.0.0.1:1/prod', JOB_QUEUE_URL: 'http://127.0.0.1:1/q', LLM_PROVIDER: 'openai', OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY_SECRET_ARN: ARN, ALLOWED_MODEL_IDS: 'gpt-test' });
    const m = new OpenAiChatModel(createOpenAiClient(config, key), key, 'max_tokens');
    for (let i = 0; i < 3; i += 1) await collect(m.stream(ask(), new AbortController().signal));
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`, `Bearer ${KEY}`]);
    expect(secrets.calls).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: ARN, signed: true }]);
    expect(await m.preflight()).toBeUndefined();
  });

  it('reads a JSON secret\'s apiKey field', async () => {
    await expect(secretsManagerKey(sm, `${ARN}-json`).get()).resolves.toBe('sk-from-json-0123456789');
  });

  it('a missing secret is an upstream_error telling the operator what to check, tried again on the next call', async () => {
    secrets.calls.length = 0;
    const key = secretsManagerKey(sm, `${ARN}-gone`);
    await expect(key.get()).rejects.toMatchObject({ code: 'upstream_error', message: expect.stringMatching(/OPENAI_API_KEY_SECRET_ARN/) as unknown });
    await expect(key.get()).rejects.toBeInstanceOf(GatewayError);
    expect(secrets.calls.length).toBeGreaterThanOrEqual(2); // not cached as a failure
    const m = new OpenAiChatModel(new OpenAI({ baseURL: server.baseUrl, apiKey: () => key.get(), maxRetries: 0, logLevel: 'off' }), key, 'max_tokens');
    expect(await m.preflight()).toMatch(/Secrets Manager/);
    const { error } = await collect(m.stream(ask(), new AbortController().signal));
    expect(error).toMatchObject({ code: 'upstream_error', message: expect.stringMatching(/Secrets Manager/) as unknown });
  });
});
