import WebSocket from 'ws';
import { GatewayClient, GatewayError } from '../../client/src/index.js';
import { GatewayError as ServerError } from '../../src/models/errors';
import type { ChatModel } from '../../src/llm/chat-model';
import { mockAnswerTokens } from '../../src/llm/mock';
import type { LocalGateway } from '../../src/local/emulator';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { seededRandom } from '../helpers/seed';
import { TcpProxy } from '../helpers/tcp-proxy';
import { until } from '../helpers/ws-client';

/** The `ws` package as the client's WebSocket (Node 20 has no global one). */
const NodeWebSocket = WebSocket;

const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }] });

describe('@ws-llm-gateway/client against the local emulator', () => {
  let local: LocalGateway;
  let client: GatewayClient;

  afterEach(async () => {
    await client?.close();
    await local?.stop();
  });

  it('streams text deltas in order, exactly once, and chats an answer with its parts joined', async () => {
    local = await startLocal({ MOCK_ANSWER_TOKENS: '40' });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket });
    const statuses: string[] = [];
    client.on('status', (s) => statuses.push(s));
    await client.connect();
    const stream = client.stream(ask('hello there'));
    let text = '';
    for await (const delta of stream) text += delta;
    const done = await stream.done;
    expect(text).toBe(mockAnswerTokens('hello there', 40).join(''));
    expect(done).toMatchObject({ requestId: stream.requestId, stopReason: 'end_turn', usage: { outputTokens: 40 } });
    const answer = await client.chat(ask('a chat'), { requestId: 'chat-1' });
    expect(answer).toMatchObject({ requestId: 'chat-1', content: mockAnswerTokens('a chat', 40).join(''), stopReason: 'end_turn' });
    expect(statuses).toEqual(['connecting', 'open']);
  });

  it('opens one socket when a request and connect() both start it while the token is read', async () => {
    local = await startLocal({ MOCK_ANSWER_TOKENS: '5' });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket, token: () => Promise.resolve('') });
    const stream = client.stream(ask('first'));
    await client.connect();
    await stream.done;
    expect(local.connectionIds()).toHaveLength(1);
  });

  it('cancels through an AbortSignal: the iterator rejects with GatewayError cancelled (an AbortError) and the gateway stops', async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '10', MOCK_ANSWER_TOKENS: '1000' });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket });
    await client.connect();
    const controller = new AbortController();
    const stream = client.stream(ask('long'), { signal: controller.signal });
    const received: string[] = [];
    const reading = (async () => {
      for await (const delta of stream) {
        received.push(delta);
        if (received.length === 3) controller.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError', code: 'cancelled' });
    await expect(stream.done).rejects.toBeInstanceOf(GatewayError);
    await local.idle();
    expect(received.length).toBeGreaterThanOrEqual(3);
  });

  it('yields the exact 2,000-token answer once when the socket is cut at five random points, resuming each time', async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '2000', STREAM_FLUSH_INTERVAL_MS: '10', CANCEL_CHECK_INTERVAL_MS: '20' });
    const proxy = await TcpProxy.start(local.port);
    try {
      client = new GatewayClient({ url: proxy.url(), WebSocket: NodeWebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
      const statuses: string[] = [];
      client.on('status', (s) => statuses.push(s));
      await client.connect();
      const stream = client.stream(ask('tell me a long story'));
      const random = seededRandom('client reconnect cuts');
      const cuts = Array.from({ length: 5 }, (_, i) => 20 + i * 30 + Math.floor(random() * 20));
      let text = '';
      let deltas = 0;
      for await (const delta of stream) {
        text += delta;
        deltas += 1;
        if (cuts.includes(deltas)) proxy.cut();
      }
      await expect(stream.done).resolves.toMatchObject({ stopReason: 'end_turn' });
      expect(text).toBe(mockAnswerTokens('tell me a long story', 2000).join(''));
      expect(statuses.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(5);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('reads the token again on every reconnect', async () => {
    local = await startLocal({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, MOCK_TOKEN_DELAY_MS: '2', MOCK_ANSWER_TOKENS: '300' });
    const proxy = await TcpProxy.start(local.port);
    try {
      const issued: string[] = [];
      client = new GatewayClient({
        url: proxy.url(),
        WebSocket: NodeWebSocket,
        reconnect: { initialDelayMs: 20 },
        token: async () => {
          const token = await hs256(claims({ sub: 'refresher', jti: `t${issued.length}` }));
          issued.push(token);
          return token;
        },
      });
      await client.connect();
      const stream = client.stream(ask('refresh me'));
      let deltas = 0;
      for await (const _delta of stream) if ((deltas += 1) === 5) proxy.cut();
      await stream.done;
      expect(issued.length).toBeGreaterThanOrEqual(2);
      expect(new Set(issued).size).toBe(issued.length);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('runs 50 streams at once on one client without crosstalk', async () => {
    local = await startLocal({ MOCK_ANSWER_TOKENS: '30', MAX_CONCURRENT_PER_CONNECTION: '50', MAX_CONCURRENT_PER_USER: '50', RATE_LIMIT_TOKENS_PER_MINUTE: '0' });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket });
    await client.connect();
    const prompts = Array.from({ length: 50 }, (_, i) => `question number ${i}`);
    const texts = await Promise.all(
      prompts.map(async (prompt) => {
        let text = '';
        for await (const delta of client.stream(ask(prompt))) text += delta;
        return text;
      }),
    );
    expect(texts).toEqual(prompts.map((prompt) => mockAnswerTokens(prompt, 30).join('')));
  });

  it('gives typed errors: rate_limited with retryAfterMs, an upstream error with its code and retryable', async () => {
    const throttled: ChatModel = {
      stream: () => ({
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.reject(new ServerError('upstream_throttled', 'The model is busy.', { retryable: true, retryAfterMs: 1500 })),
        }),
      }),
    };
    local = await startLocal({ RATE_LIMIT_REQUESTS_PER_MINUTE: '1' }, { deps: { model: throttled } });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket });
    await client.connect();
    const first = await client.chat(ask('one')).catch((error: unknown) => error);
    expect(first).toMatchObject({ code: 'upstream_throttled', retryable: true, retryAfterMs: 1500 });
    expect(first).toBeInstanceOf(GatewayError);
    const second = await client.chat(ask('two')).catch((error: unknown) => error);
    expect(second).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: expect.any(Number) });
  });

  it('ends every request with `closed` when the client closes, and a request made while disconnected waits for the connection', async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '500' });
    client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket });
    // Not connected yet: the request waits, then runs.
    const early = client.stream(ask('early'));
    void client.connect();
    const iterator = early[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await client.close();
    await expect(early.done).rejects.toMatchObject({ code: 'closed' });
    await until(() => client.status === 'closed', 'closed');
  });
});
