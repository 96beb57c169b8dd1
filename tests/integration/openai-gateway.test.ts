import { Writable } from 'node:stream';
import pino from 'pino';
import type { LocalGateway } from '../../src/local/emulator';
import { isWellFormed } from '../../src/models/text';
import type { BedrockEmulator } from '../helpers/bedrock-emulator';
import { connectTracked, startLocal } from '../helpers/local';
import { OpenAiStandIn } from '../helpers/openai-standin';
import { until, type Frame, type TestClient } from '../helpers/ws-client';
import { NOVA, startTwoProviders, type TwoProviders } from '../helpers/two-providers';

/**
 * End to end through the local emulator (route, queue, worker) with the openai provider and the
 * official SDK against the Chat Completions stand-in; and one gateway in front of Bedrock (its
 * ConverseStream emulator) and an OpenAI-compatible server, falling back from one to the other.
 */
const KEY = 'sk-gateway-test-0123456789';
const stream = (requestId: string, model?: string) => ({ action: 'llm/stream', requestId, data: { ...(model ? { modelId: model } : {}), messages: [{ role: 'user', content: 'hello' }] } });
const textOf = (frames: Frame[]): string => frames.filter((f) => f.type === 'chunk').map((f) => String(f['content'])).join('');

describe('the gateway with an OpenAI-compatible provider', () => {
  let server: OpenAiStandIn;
  let local: LocalGateway;
  let client: TestClient;
  const logged: string[] = [];
  const logger = pino({ level: 'debug', base: undefined }, new Writable({ write: (chunk: Buffer, _enc, next) => (logged.push(chunk.toString('utf8')), next()) }));
  const env = { LLM_PROVIDER: 'openai', OPENAI_API_KEY: KEY, OPENAI_MAX_ATTEMPTS: '1', ALLOWED_MODEL_IDS: 'gpt-test', MODEL_IDLE_TIMEOUT_MS: '400', RESUME_GRACE_SECONDS: '0' };

  // The stand-in serves every test; each test gets its own gateway and client, so none depends
  // on what another left behind.
  beforeAll(async () => {
    server = await new OpenAiStandIn().start();
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    server.requests.length = 0;
    logged.length = 0;
    local = await startLocal({ ...env, OPENAI_BASE_URL: server.baseUrl }, { deps: { logger } });
    ({ client } = await connectTracked(local));
  });
  afterEach(async () => {
    await client.close();
    await local.stop();
  });

  it('streams the answer exactly, ending with done: our stop reason and the server\'s usage', async () => {
    const tokens = Array.from({ length: 40 }, (_, i) => `t${i} `);
    server.scenario = () => ({ kind: 'stream', tokens, delayMs: 1 });
    client.send(stream('s1'));
    const done = await client.terminal('s1', 10_000);
    expect(done).toMatchObject({ type: 'done', modelId: 'gpt-test', stopReason: 'end_turn', usage: { inputTokens: 11, outputTokens: 40, totalTokens: 51 } });
    expect(textOf(client.of('s1'))).toBe(tokens.join(''));
    expect(server.requests[0]!.headers['authorization']).toBe(`Bearer ${KEY}`);
  });

  it('never puts half of a surrogate pair in a frame when the server splits an emoji across two SSE events', async () => {
    // Each token its own event, far enough apart that each would be its own frame.
    server.scenario = () => ({ kind: 'stream', tokens: ['Hi ', '\ud83d', '\ude00', ' and ', '\ud83c', '\udf89', '!'], delayMs: 40 });
    client.send(stream('emoji'));
    expect(await client.terminal('emoji', 10_000)).toMatchObject({ type: 'done' });
    const chunks = client.of('emoji').filter((f) => f.type === 'chunk');
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(isWellFormed(String(chunk['content']))).toBe(true);
    expect(textOf(client.of('emoji'))).toBe('Hi 😀 and 🎉!');
  });

  it('llm/chat answers in one response frame with usage', async () => {
    server.scenario = () => ({ kind: 'stream', tokens: ['Whole ', 'answer.'] });
    client.send({ action: 'llm/chat', requestId: 'c1', data: { messages: [{ role: 'user', content: 'hi' }] } });
    const end = await client.terminal('c1', 10_000);
    expect(end).toMatchObject({ type: 'response', content: 'Whole answer.', stopReason: 'end_turn', usage: { outputTokens: 2 } });
  });

  it('cancel closes the connection to the server, and the request ends with cancelled', async () => {
    server.scenario = () => ({ kind: 'stall', tokens: ['first '], after: 1 });
    client.send(stream('x1'));
    await client.waitFor((frames) => frames.some((f) => f.requestId === 'x1' && f.type === 'chunk'), 5000, 'the first chunk');
    client.send({ action: 'llm/cancel', requestId: 'x1' });
    expect(await client.terminal('x1', 5000)).toMatchObject({ type: 'error', code: 'cancelled' });
    await until(() => server.requests[0]!.closedEarly, 'the server saw the connection close', 5000);
  });

  it('a departed client (no resume grace) closes the connection to the server too', async () => {
    server.scenario = () => ({ kind: 'stall', tokens: ['first '], after: 1 });
    const { client: leaving } = await connectTracked(local);
    leaving.send(stream('gone-1'));
    await leaving.waitFor((frames) => frames.some((f) => f.requestId === 'gone-1' && f.type === 'chunk'), 5000, 'the first chunk');
    await leaving.close();
    await until(() => server.requests[0]!.closedEarly, 'the server saw the connection close', 5000);
    expect(server.requests[0]!.written).toBeLessThan(2);
  });

  it('a 429 reaches the client as upstream_throttled with the server\'s retry-after-ms', async () => {
    server.scenario = () => ({ kind: 'http-error', status: 429, message: 'slow down', headers: { 'retry-after-ms': '2500' } });
    client.send(stream('r1'));
    expect(await client.terminal('r1', 5000)).toMatchObject({ type: 'error', code: 'upstream_throttled', retryable: true, retryAfterMs: 2500 });
  });

  it('a refused key is upstream_error, not retryable, and the key is in no frame and no log line, even when the server echoes it', async () => {
    logged.length = 0;
    server.scenario = () => ({ kind: 'http-error', status: 401, message: `Incorrect API key provided: ${KEY}` });
    client.send(stream('k1'));
    const end = await client.terminal('k1', 5000);
    expect(end).toMatchObject({ type: 'error', code: 'upstream_error', retryable: false });
    expect(JSON.stringify(client.of('k1'))).not.toContain(KEY);
    server.scenario = () => ({ kind: 'http-error', status: 500, message: `internal error for key ${KEY}` });
    client.send(stream('k2'));
    expect(await client.terminal('k2', 5000)).toMatchObject({ type: 'error', code: 'upstream_error', retryable: true });
    const failures = logged.filter((line) => /request failed|ended with an error/.test(line));
    expect(failures).toHaveLength(2); // both failures were logged, with their (scrubbed) cause
    expect(failures.join('')).toMatch(/Incorrect API key provided: \[key\]/);
    expect(logged.join('')).not.toContain(KEY);
  });

  it.each([
    ['400 echoing basic credentials', 400, `zebra header: Authorization: Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`],
    ['422 echoing a long prefix of the key', 422, `unknown key ${KEY.slice(0, 14)}… for this zebra project`],
    ['404 echoing the key', 404, `zebra model not found for key ${KEY}`],
  ])('a %s sends the client a fixed message, and the log the reason without the key', async (_name, status, message) => {
    logged.length = 0;
    server.scenario = () => ({ kind: 'http-error', status, message });
    client.send(stream(`echo-${status}`));
    const end = await client.terminal(`echo-${status}`, 5000);
    expect(end).toMatchObject({ type: 'error', code: status === 404 ? 'model_not_allowed' : 'invalid_request', retryable: false });
    const base64 = Buffer.from(`user:${KEY}`).toString('base64');
    const sent = JSON.stringify(client.of(`echo-${status}`));
    for (const secret of [KEY, KEY.slice(0, 10), base64, 'zebra']) expect(sent).not.toContain(secret);
    const text = logged.join('');
    expect(logged.filter((line) => line.includes('ended with an error')).length).toBe(1);
    for (const secret of [KEY, KEY.slice(0, 10), base64]) expect(text).not.toContain(secret);
  });
});

describe('Bedrock and an OpenAI-compatible server behind one gateway, falling back across them', () => {
  let bedrock: BedrockEmulator;
  let server: OpenAiStandIn;
  let client: TestClient;
  let both: TwoProviders;

  beforeAll(async () => {
    both = await startTwoProviders(`${NOVA}=gpt-test,gpt-test=${NOVA}`);
    ({ bedrock, server, client } = both);
  });
  afterAll(() => both.stop());
  beforeEach(() => {
    bedrock.requests.length = 0;
    server.requests.length = 0;
    bedrock.scenario = () => ({ kind: 'stream', tokens: ['from ', 'bedrock'] });
    server.scenario = () => ({ kind: 'stream', tokens: ['from ', 'openai'] });
  });

  it('routes each model to its provider', async () => {
    client.send(stream('a', NOVA));
    client.send(stream('b', 'gpt-test'));
    expect(await client.terminal('a', 10_000)).toMatchObject({ type: 'done', modelId: NOVA });
    expect(await client.terminal('b', 10_000)).toMatchObject({ type: 'done', modelId: 'gpt-test' });
    expect(textOf(client.of('a'))).toBe('from bedrock');
    expect(textOf(client.of('b'))).toBe('from openai');
    expect(bedrock.requests.map((r) => r.modelId)).toEqual([NOVA]);
    expect(server.requests.map((r) => r.body.model)).toEqual(['gpt-test']);
  });

  it('Bedrock throttled → the OpenAI-compatible model answers', async () => {
    bedrock.scenario = () => ({ kind: 'http-error', status: 429, errorType: 'ThrottlingException' });
    client.send(stream('f1', NOVA));
    expect(await client.terminal('f1', 10_000)).toMatchObject({ type: 'done', modelId: 'gpt-test' });
    expect(textOf(client.of('f1'))).toBe('from openai');
  });

  it('the OpenAI-compatible server down → Bedrock answers', async () => {
    server.scenario = () => ({ kind: 'http-error', status: 503, message: 'overloaded' });
    client.send(stream('f2', 'gpt-test'));
    expect(await client.terminal('f2', 10_000)).toMatchObject({ type: 'done', modelId: NOVA });
    expect(textOf(client.of('f2'))).toBe('from bedrock');
  });

  it('no fallback once text was sent: a break mid-answer ends with one error after the text', async () => {
    server.scenario = () => ({ kind: 'break', tokens: ['partial ', 'text ', 'more'], after: 2 });
    client.send(stream('f3', 'gpt-test'));
    expect(await client.terminal('f3', 10_000)).toMatchObject({ type: 'error', code: 'upstream_error' });
    expect(textOf(client.of('f3'))).toBe('partial text ');
    expect(bedrock.requests).toEqual([]);
  });
});
