import http from 'node:http';
import WebSocket from 'ws';
import type { LocalGateway } from '../../src/local/emulator';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import type { WsEvent } from '../../src/utils/lambda';
import { FaultyConnectionStore } from '../helpers/faulty-stores';
import { connectTracked, startLocal } from '../helpers/local';
import { TestClient, until } from '../helpers/ws-client';

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (part: Buffer) => (body += part.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}


describe('the local API Gateway emulator', () => {
  const events: WsEvent[] = [];
  let local: LocalGateway;
  let connections: FaultyConnectionStore;

  beforeEach(async () => {
    events.length = 0;
    connections = new FaultyConnectionStore();
    local = await startLocal({}, { deps: { connections }, onEvent: (event) => events.push(event) });
  });
  afterEach(() => local.stop());

  it('sends CONNECT, MESSAGE and DISCONNECT events with the fields and shapes of AWS', async () => {
    const { client, connectionId } = await connectTracked(local, {
      headers: { 'User-Agent': 'shape-test' },
    });
    client.send({ action: 'ping' });
    client.send('plain text');
    await client.waitFor((frames) => frames.length === 2);
    await client.close();
    await until(() => events.some((e) => e.requestContext.eventType === 'DISCONNECT'), 'DISCONNECT');

    const [connect, ping, text, disconnect] = events;
    expect(connectionId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    const common = {
      connectionId,
      stage: 'local',
      messageDirection: 'IN',
      domainName: `127.0.0.1:${local.port}`,
      apiId: expect.stringMatching(/^[a-z0-9]{10}$/),
      requestId: expect.stringMatching(/^[A-Za-z0-9+/]{15}=$/),
      extendedRequestId: expect.any(String),
      requestTime: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
      requestTimeEpoch: expect.any(Number),
      connectedAt: expect.any(Number),
    };
    expect(connect!.requestContext).toEqual({
      ...common,
      routeKey: '$connect',
      eventType: 'CONNECT',
      identity: { sourceIp: '127.0.0.1', userAgent: 'shape-test' },
    });
    expect(connect!.headers).toMatchObject({ 'User-Agent': 'shape-test', 'X-Forwarded-Proto': 'http', 'Sec-WebSocket-Version': '13' });
    expect(connect!.multiValueHeaders!['User-Agent']).toEqual(['shape-test']);
    expect(connect!.requestContext.messageId).toBeUndefined();

    expect(ping!.requestContext).toMatchObject({ ...common, routeKey: 'ping', eventType: 'MESSAGE', messageId: expect.any(String) });
    expect(ping!.headers).toBeUndefined();
    expect(ping!.queryStringParameters).toBeUndefined();
    expect(ping!.body).toBe('{"action":"ping"}');
    expect(text!.requestContext.routeKey).toBe('$default');

    expect(disconnect!.requestContext).toMatchObject({
      ...common,
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      disconnectStatusCode: 1000,
      disconnectReason: expect.stringContaining('1000'),
    });
    expect(disconnect!.requestContext.messageId).toBeUndefined();
    expect(Object.keys(disconnect!.headers!)).toEqual(['Host', 'x-api-key', 'X-Forwarded-For', 'x-restapi']);
  });

  it('passes the query string on CONNECT only, single- and multi-valued', async () => {
    const client = await TestClient.connect(`${local.url}?token=abc&tag=1&tag=2`);
    await client.close();
    expect(events[0]!.queryStringParameters).toEqual({ token: 'abc', tag: '1,2' });
    expect(events[0]!.multiValueQueryStringParameters).toEqual({ token: ['abc'], tag: ['1', '2'] });
  });

  it('selects routes on $request.body.action: known actions, unknown ones and non-JSON to $default', async () => {
    const client = await TestClient.connect(local.url);
    for (const body of ['{"action":"llm/cancel"}', '{"action":"nope"}', '[1]', '{"action":5}', '{"action":"$connect"}']) {
      client.send(body);
    }
    await client.waitFor((frames) => frames.length === 5);
    await client.close();
    const routes = events.filter((e) => e.requestContext.eventType === 'MESSAGE').map((e) => e.requestContext.routeKey);
    expect(routes).toEqual(['llm/cancel', '$default', '$default', '$default', '$default']);
  });

  it('refuses the handshake with the status $connect returned', async () => {
    connections.failPuts = true;
    expect(await TestClient.refusal(local.url)).toBe(500);
    expect(local.connectionIds()).toEqual([]);
  });

  it('accepts WebSockets on / and /{stage} only', async () => {
    const root = await TestClient.connect(local.url.replace(/\/local$/, '/'));
    await root.close();
    expect(await TestClient.refusal(local.url.replace(/\/local$/, '/elsewhere'))).toBe(404);
  });

  it('closes with 1009 a message above 128 KB, and with 1003 a binary frame, like API Gateway', async () => {
    const big = await TestClient.connect(local.url);
    big.socket.send('x'.repeat(128 * 1024 + 1));
    expect((await big.closed).code).toBe(1009);
    const binary = await TestClient.connect(local.url);
    binary.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await binary.closed).code).toBe(1003);
  });

  it('closes with 1009 a frame above 32 KB, as API Gateway does, routing none of it; the same message in 32 KB frames is answered', async () => {
    const events: string[] = [];
    const counted = await startLocal({ MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '3' }, { onEvent: (event) => void events.push(event.requestContext.routeKey) });
    try {
      const frame = JSON.stringify({ action: 'llm/stream', requestId: 'big', data: { messages: [{ role: 'user', content: 'x'.repeat(40 * 1024) }] } });
      const browserLike = await TestClient.connect(counted.url);
      browserLike.sendOneFrame(frame);
      expect(await browserLike.closed).toMatchObject({ code: 1009 });
      expect(browserLike.frames).toEqual([]);
      // Split (TestClient.send, the ws package's fin: false), the same message goes through.
      const split = await TestClient.connect(counted.url);
      split.send(frame);
      expect(await split.terminal('big', 10_000)).toMatchObject({ type: 'done' });
      await split.close();
      expect(events.filter((route) => route === 'llm/stream')).toHaveLength(1);
      // A frame of exactly 32 KB is one API Gateway takes.
      const edge = await TestClient.connect(counted.url);
      const base = JSON.stringify({ action: 'ping', requestId: 'p', pad: '' });
      const exact = JSON.stringify({ action: 'ping', requestId: 'p', pad: 'x'.repeat(32 * 1024 - base.length) });
      expect(Buffer.byteLength(exact)).toBe(32 * 1024);
      edge.sendOneFrame(exact);
      await edge.waitFor((frames) => frames.length > 0, 5000, 'an answer to the 32 KB frame');
      expect(edge.socket.readyState).toBe(WebSocket.OPEN);
      await edge.close();
    } finally {
      await counted.stop();
    }
  });

  it('serves the chat page on GET /', async () => {
    const page = await get(local.pageUrl);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    expect(page.body).toMatch(/data-testid="prompt"/);
    expect((await get(`${local.pageUrl}nothing-here`)).status).toBe(404);
  });

  it('on stop, closes every connection with 1001 and runs its $disconnect', async () => {
    const { client, connectionId } = await connectTracked(local);
    expect(await connections.get(connectionId)).toBeDefined();
    await local.stop();
    expect((await client.closed).code).toBe(1001);
    expect(await connections.get(connectionId)).toBeUndefined();
    expect(events.at(-1)!.requestContext).toMatchObject({ routeKey: '$disconnect', disconnectStatusCode: 1001 });
    local = await startLocal(); // afterEach stops it
  });
});

describe('the emulator’s connection time limits', () => {
  it('closes an idle connection with 1001, not one kept active, and a connection past its maximum duration with 1001', async () => {
    // Fake timers, so the order of events is what is tested, not how fast this machine is; the
    // sockets (I/O) stay real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance', 'hrtime'] });
    const connections = new MemoryConnectionStore();
    const local = await startLocal({}, { deps: { connections }, server: { idleTimeoutMs: 10_000, maxConnectionMs: 3_600_000 } });
    try {
      const { client, connectionId } = await connectTracked(local);
      // Activity keeps it open past two idle periods…
      for (let i = 1; i <= 4; i += 1) {
        jest.advanceTimersByTime(6_000);
        client.send({ action: 'ping', requestId: `p${i}` });
        await client.waitFor((frames) => frames.some((f) => f.requestId === `p${i}`), 5000, `pong ${i}`);
      }
      expect(client.socket.readyState).toBe(client.socket.OPEN);
      // …and one idle period of silence closes it, not a moment before.
      jest.advanceTimersByTime(9_999);
      await new Promise((resolve) => setImmediate(resolve));
      expect(client.socket.readyState).toBe(client.socket.OPEN);
      jest.advanceTimersByTime(2);
      expect((await client.closed).code).toBe(1001);
      jest.useRealTimers();
      await until(async () => (await connections.get(connectionId)) === undefined, 'record removal');
    } finally {
      jest.useRealTimers();
      await local.stop();
    }
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance', 'hrtime'] });
    const capped = await startLocal({}, { server: { idleTimeoutMs: 3_600_000, maxConnectionMs: 50_000 } });
    try {
      const client = await TestClient.connect(capped.url);
      jest.advanceTimersByTime(49_000);
      client.send({ action: 'ping', requestId: 'late' });
      await client.waitFor((frames) => frames.some((f) => f.requestId === 'late'), 5000, 'the pong before the limit');
      jest.advanceTimersByTime(1_001);
      expect((await client.closed).code).toBe(1001);
    } finally {
      jest.useRealTimers();
      await capped.stop();
    }
  });

  it('tells the client "Internal server error" when the integration itself fails, as API Gateway does', async () => {
    const local = await startLocal();
    try {
      const client = await TestClient.connect(local.url);
      const original = local.gateway.handler;
      (local.gateway as { handler: typeof original }).handler = () => Promise.reject(new Error('crash'));
      client.send({ action: 'ping' });
      const [frame] = await client.waitFor((frames) => frames.length === 1);
      expect(frame).toMatchObject({ message: 'Internal server error', connectionId: expect.any(String), requestId: expect.any(String) });
      (local.gateway as { handler: typeof original }).handler = original;
      await client.close();
    } finally {
      await local.stop();
    }
  });
});
