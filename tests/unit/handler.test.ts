import connectFixture from '../fixtures/events/connect.json';
import disconnectFixture from '../fixtures/events/disconnect.json';
import messageFixture from '../fixtures/events/message.json';
import type { Gateway } from '../../src/gateway';
import type { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import type { WsEvent } from '../../src/utils/lambda';
import type { RecordingSender } from '../helpers/recording-sender';
import { FaultyConnectionStore } from '../helpers/faulty-stores';
import { createUnitGateway } from '../helpers/unit-gateway';

const CONNECTION = connectFixture.requestContext.connectionId;

function message(body: string, routeKey = 'ping'): WsEvent {
  return { ...messageFixture, body, requestContext: { ...messageFixture.requestContext, routeKey } } as WsEvent;
}

describe('the Lambda handler fed AWS-shaped events', () => {
  let gateway: Gateway;
  let sender: RecordingSender;
  let connections: MemoryConnectionStore;

  beforeEach(async () => {
    // Prepare
    ({ gateway, sender, connections } = await createUnitGateway());
  });

  afterEach(() => gateway.app.close());

  it('records a CONNECT with the authorizer userId, identity and a TTL past two hours', async () => {
    const result = await gateway.handler(connectFixture as WsEvent);
    expect(result.statusCode).toBe(200);
    const record = await connections.get(CONNECTION);
    expect(record).toMatchObject({
      connectionId: CONNECTION,
      connectedAt: 1707502303419,
      userId: 'user-123',
      sourceIp: '192.0.2.1',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0',
      domainName: 'abcd1234ef.execute-api.us-east-1.amazonaws.com',
      stage: 'prod',
    });
    expect(record!.ttl - Date.now() / 1000).toBeGreaterThan(2 * 3600);
    expect(sender.sent).toEqual([]);
  });

  it('refuses the handshake with 500 when the store fails, so no connection half-opens', async () => {
    const faulty = new FaultyConnectionStore();
    faulty.failPuts = true;
    const unit = await createUnitGateway({}, { connections: faulty });
    try {
      expect((await unit.gateway.handler(connectFixture as WsEvent)).statusCode).toBe(500);
      expect(await faulty.get(CONNECTION)).toBeUndefined();
    } finally {
      await unit.gateway.app.close();
    }
  });

  it('answers a MESSAGE ping with one pong to the sender only', async () => {
    const result = await gateway.handler(messageFixture as WsEvent);
    expect(result.statusCode).toBe(200);
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0]).toMatchObject({ connectionId: CONNECTION, frame: { type: 'pong', requestId: 'p-1' } });
  });

  it('streams an llm/stream request: accepted, contiguous chunks, done with usage and metadata', async () => {
    const body = JSON.stringify({
      action: 'llm/stream',
      requestId: 'r-1',
      data: { messages: [{ role: 'user', content: 'Hi' }], metadata: { trace: 't-1' } },
    });
    await gateway.handler(message(body, 'llm/stream'));
    const frames = sender.framesFor(CONNECTION);
    expect(frames[0]).toEqual({ type: 'accepted', requestId: 'r-1', modelId: 'mock.echo-v1', resumeToken: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    const chunks = frames.filter((f) => f.type === 'chunk');
    expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, i) => i));
    const done = frames.at(-1);
    expect(done).toMatchObject({
      type: 'done',
      requestId: 'r-1',
      seq: chunks.length,
      stopReason: 'end_turn',
      usage: { outputTokens: 12 },
      metadata: { trace: 't-1' },
    });
  });

  it.each([
    ['not json', '$default', 'invalid_json'],
    ['{"action":"llm/teleport"}', '$default', 'unknown_action'],
    ['{"action":"llm/stream","requestId":"r-9","data":{"messages":[]}}', 'llm/stream', 'invalid_request'],
    ['{"action":"llm/stream","data":{"messages":[{"role":"user","content":"x"}],"modelId":"gpt-9"}}', 'llm/stream', 'model_not_allowed'],
    ['{"action":"llm/cancel"}', 'llm/cancel', 'invalid_request'],
  ])('answers %s on %s with exactly one %s error frame', async (body, routeKey, code) => {
    const result = await gateway.handler(message(body, routeKey));
    expect(result.statusCode).toBe(200);
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0]).toMatchObject({ connectionId: CONNECTION, frame: { type: 'error', code, retryable: false } });
  });

  it('lists the valid actions in unknown_action and names a well-formed requestId as refused, not ended', async () => {
    await gateway.handler(message('{"action":"nope","requestId":"r-2"}', '$default'));
    expect(sender.sent[0]?.frame).toMatchObject({
      code: 'unknown_action',
      refusedRequestId: 'r-2',
      validActions: ['llm/stream', 'llm/chat', 'message', 'llm/cancel', 'llm/resume', 'llm/upload', 'ping', 'conv/create', 'conv/list', 'conv/get', 'conv/rename', 'conv/delete'],
    });
    expect(sender.sent[0]?.frame).not.toHaveProperty('requestId');
  });

  it('does nothing for a cancel of a request that is not running: no frame at all', async () => {
    const result = await gateway.handler(message('{"action":"llm/cancel","requestId":"nope"}', 'llm/cancel'));
    expect(result.statusCode).toBe(200);
    expect(sender.sent).toEqual([]);
  });

  it('serves a known action that reached $default (a deployment missing that route)', async () => {
    await gateway.handler(message('{"action":"ping","requestId":"p-2"}', '$default'));
    expect(sender.sent[0]?.frame).toMatchObject({ type: 'pong', requestId: 'p-2' });
  });

  it('removes the connection on DISCONNECT and never fails it, not even when the store does', async () => {
    await gateway.handler(connectFixture as WsEvent);
    expect(await connections.get(CONNECTION)).toBeDefined();
    expect((await gateway.handler(disconnectFixture as WsEvent)).statusCode).toBe(200);
    expect(await connections.get(CONNECTION)).toBeUndefined();
    const faulty = new FaultyConnectionStore();
    faulty.failDeletes = true;
    const unit = await createUnitGateway({}, { connections: faulty });
    try {
      await unit.gateway.handler(connectFixture as WsEvent);
      expect((await unit.gateway.handler(disconnectFixture as WsEvent)).statusCode).toBe(200);
    } finally {
      await unit.gateway.app.close();
    }
  });

  it('rejects an event that is not an API Gateway WebSocket event', async () => {
    await expect(gateway.handler({ httpMethod: 'GET', path: '/' } as unknown as WsEvent)).rejects.toThrow(TypeError);
  });

  it('serves events without requestContext.identity (the @types/aws-lambda shape): $connect, a message and $disconnect', async () => {
    const strip = (event: unknown): WsEvent => {
      const copy = JSON.parse(JSON.stringify(event)) as { requestContext: Record<string, unknown> };
      delete copy.requestContext['identity'];
      return copy as unknown as WsEvent;
    };
    expect((await gateway.handler(strip(connectFixture))).statusCode).toBe(200);
    expect(await connections.get(CONNECTION)).toMatchObject({ sourceIp: 'unknown' });
    expect((await gateway.handler(strip(message('{"action":"llm/stream","requestId":"n","data":{"messages":[{"role":"user","content":"hi"}]}}', 'llm/stream')))).statusCode).toBe(200);
    expect(sender.sent.at(-1)?.frame).toMatchObject({ type: 'done', requestId: 'n' });
    expect((await gateway.handler(strip(disconnectFixture))).statusCode).toBe(200);
    expect(await connections.get(CONNECTION)).toBeUndefined();
  });

  it.each(['not json', '{"action":', '[1,2]', '"text"', 'null', '42', ''])('answers the message %p with one invalid_json frame (parsed once, by Fastify)', async (body) => {
    expect((await gateway.handler(message(body, '$default'))).statusCode).toBe(200);
    expect(sender.sent.map((s) => s.frame)).toEqual([expect.objectContaining({ type: 'error', code: 'invalid_json' })]);
  });

  it('answers a binary message with invalid_request and one above 128 KB with payload_too_large', async () => {
    await gateway.handler({ ...message(Buffer.from('{"action":"ping"}').toString('base64')), isBase64Encoded: true });
    await gateway.handler(message(`{"action":"ping","pad":"${'x'.repeat(128 * 1024)}"}`));
    expect(sender.sent.map((s) => s.frame)).toEqual([
      expect.objectContaining({ code: 'invalid_request', message: expect.stringMatching(/Binary frames/) }),
      expect.objectContaining({ code: 'payload_too_large' }),
    ]);
  });
});
