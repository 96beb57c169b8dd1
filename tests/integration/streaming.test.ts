import { mockAnswerTokens } from '../../src/llm/mock';
import type { LocalGateway } from '../../src/local/emulator';
import { quiesce, startLocal } from '../helpers/local';
import { ClientPool, TestClient, type Frame } from '../helpers/ws-client';

const ask = (requestId: string, content: string, extra: Record<string, unknown> = {}) => ({
  action: 'llm/stream',
  requestId,
  data: { messages: [{ role: 'user', content }], ...extra },
});

function textOf(frames: Frame[]): string {
  return frames.filter((f) => f.type === 'chunk').map((f) => f.content as string).join('');
}

describe('streaming through the local API Gateway emulator', () => {
  let local: LocalGateway;
  const pool = new ClientPool(() => local.url);
  const connect = (): Promise<TestClient> => pool.connect();

  beforeAll(async () => {
    local = await startLocal();
  });
  afterEach(async () => {
    await pool.closeAll();
  });
  afterAll(() => local.stop());

  it('streams accepted, contiguous chunks with the whole answer, then done with usage and metrics', async () => {
    const client = await connect();
    client.send(ask('r-1', 'Explain WebSockets', { metadata: { tab: 7 } }));
    const done = await client.terminal('r-1');
    const frames = client.of('r-1');
    expect(frames[0]).toEqual({ type: 'accepted', requestId: 'r-1', modelId: 'mock.echo-v1', resumeToken: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    const chunks = frames.filter((f) => f.type === 'chunk');
    expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, i) => i));
    expect(textOf(frames)).toBe(mockAnswerTokens('Explain WebSockets', 40).join(''));
    expect(done).toMatchObject({ type: 'done', seq: chunks.length, stopReason: 'end_turn', metadata: { tab: 7 } });
    expect(done.usage).toEqual({ inputTokens: 5, outputTokens: 40, totalTokens: 45 });
    expect(done.metrics.totalMs).toBeGreaterThanOrEqual(done.metrics.timeToFirstTokenMs);
    expect(frames.at(-1)).toBe(done);
    for (const raw of client.raw) expect(Buffer.byteLength(raw)).toBeLessThan(32 * 1024);
  });

  it('treats `message` as an alias of llm/stream', async () => {
    const client = await connect();
    client.send({ ...ask('m-1', 'alias'), action: 'message' });
    expect((await client.terminal('m-1')).type).toBe('done');
    expect(textOf(client.of('m-1'))).toBe(mockAnswerTokens('alias', 40).join(''));
  });

  it('serves two clients streaming at once with no crosstalk', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    a.send(ask('same-id', 'question from A'));
    b.send(ask('same-id', 'question from B'));
    await Promise.all([a.terminal('same-id'), b.terminal('same-id')]);
    expect(textOf(a.frames)).toBe(mockAnswerTokens('question from A', 40).join(''));
    expect(textOf(b.frames)).toBe(mockAnswerTokens('question from B', 40).join(''));
  });

  it('runs several requests of one connection concurrently, each complete and in order', async () => {
    const client = await connect();
    const ids = ['c-1', 'c-2', 'c-3'];
    ids.forEach((id) => client.send(ask(id, `prompt ${id}`)));
    await Promise.all(ids.map((id) => client.terminal(id)));
    for (const id of ids) {
      expect(textOf(client.of(id))).toBe(mockAnswerTokens(`prompt ${id}`, 40).join(''));
      expect(client.of(id).at(-1)?.type).toBe('done');
    }
  });

  it('answers llm/chat with one response carrying usage', async () => {
    const client = await connect();
    client.send({ ...ask('chat-1', 'Hello'), action: 'llm/chat' });
    const response = await client.terminal('chat-1');
    expect(response).toMatchObject({ type: 'response', part: 0, parts: 1, stopReason: 'end_turn', usage: { outputTokens: 40 } });
    expect(response.content).toBe(mockAnswerTokens('Hello', 40).join(''));
    expect(client.of('chat-1').map((f) => f.type)).toEqual(['accepted', 'response']);
  });

  it('generates a requestId when the client sends none and echoes it on every frame', async () => {
    const client = await connect();
    client.send({ action: 'llm/stream', data: { messages: [{ role: 'user', content: 'no id' }] } });
    await client.waitFor((frames) => frames.some((f) => f.type === 'done'));
    const ids = new Set(client.frames.map((f) => f.requestId));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a second request with a requestId still running on the connection', async () => {
    const client = await connect();
    client.send(ask('dup', 'first'));
    client.send(ask('dup', 'second'));
    await client.waitFor((frames) => frames.some((f) => f.type === 'done'));
    await quiesce(local, client);
    const errors = client.frames.filter((f) => f.type === 'error');
    expect(errors).toEqual([
      expect.objectContaining({ refusedRequestId: 'dup', code: 'invalid_request', message: expect.stringMatching(/already running/) }),
    ]);
    expect(errors[0]).not.toHaveProperty('requestId');
    expect(client.frames.filter((f) => f.type === 'done')).toHaveLength(1);
  });

  it('answers ping with pong', async () => {
    const client = await connect();
    client.send({ action: 'ping', requestId: 'p' });
    const [pong] = await client.waitFor((frames) => frames.length > 0);
    expect(pong).toMatchObject({ type: 'pong', requestId: 'p' });
    expect(Date.parse(pong!.serverTime)).not.toBeNaN();
  });
});

describe('llm/chat above the 128 KB message limit', () => {
  it('arrives in numbered parts, each under the limit, that join to the whole answer', async () => {
    const local = await startLocal({ MOCK_TOKEN_DELAY_MS: '0', MOCK_ANSWER_TOKENS: '40000', MAX_OUTPUT_TOKENS: '50000' });
    const client = await TestClient.connect(local.url);
    try {
      client.send({ action: 'llm/chat', requestId: 'big', data: { messages: [{ role: 'user', content: 'long' }] } });
      const last = await client.terminal('big', 15_000);
      const parts = client.of('big').filter((f) => f.type === 'response');
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => i));
      expect(parts.every((p) => p.parts === parts.length)).toBe(true);
      expect(last.usage.outputTokens).toBe(40000);
      expect(parts.map((p) => p.content).join('')).toBe(mockAnswerTokens('long', 40000).join(''));
      for (const raw of client.raw) expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(128 * 1024);
    } finally {
      await client.close();
      await local.stop();
    }
  });
});
