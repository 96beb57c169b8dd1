import type { LocalGateway } from '../../src/local/emulator';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { cancelFromAnotherInstance, connectTracked, quiesce, startLocal } from '../helpers/local';
import { ClientPool, type TestClient, until } from '../helpers/ws-client';

// No resume grace: a client that leaves stops its answers at once (resumable.test.ts covers the grace).
const SLOW = { MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '500', RESUME_GRACE_SECONDS: '0' };
const ask = (requestId: string, content = 'tell me a long story') => ({
  action: 'llm/stream',
  requestId,
  data: { messages: [{ role: 'user', content }] },
});


describe('cancel and disconnect', () => {
  let local: LocalGateway;
  let connections: MemoryConnectionStore;
  let requests: MemoryRequestStore;
  const pool = new ClientPool(() => local.url);
  const connect = (): Promise<TestClient> => pool.connect();

  beforeEach(async () => {
    connections = new MemoryConnectionStore();
    requests = new MemoryRequestStore();
    local = await startLocal(SLOW, { deps: { connections, requests } });
  });
  afterEach(async () => {
    await pool.closeAll();
    await local.stop();
  });

  it('llm/cancel stops a running stream, which ends with one `cancelled` error and no done', async () => {
    const client = await connect();
    client.send(ask('long'));
    await client.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    client.send({ action: 'llm/cancel', requestId: 'long' });
    const end = await client.terminal('long');
    expect(end).toMatchObject({ type: 'error', code: 'cancelled', requestId: 'long', retryable: false });
    await quiesce(local, client);
    const frames = client.of('long');
    expect(frames.at(-1)).toBe(end);
    expect(frames.some((f) => f.type === 'done')).toBe(false);
    const chunks = frames.filter((f) => f.type === 'chunk');
    expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, i) => i));
    expect(requests.size).toBe(0);
  });

  it('a cancel handled by another invocation (another app instance, shared store) stops the generation', async () => {
    const { client, connectionId } = await connectTracked(local);
    pool.track(client);
    client.send(ask('remote'));
    await client.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    // Act: a second "Lambda instance" sharing only the stores, as DynamoDB would be shared.
    await cancelFromAnotherInstance(local, connectionId, 'remote', { deps: { connections, requests, streams: local.gateway.deps.streams } });
    // Assess
    expect(await client.terminal('remote')).toMatchObject({ type: 'error', code: 'cancelled' });
  });

  it('a client cannot cancel another connection’s request', async () => {
    const [owner, intruder] = await Promise.all([connect(), connect()]);
    owner.send({ ...ask('mine'), data: { messages: [{ role: 'user', content: 'short' }], inferenceConfig: { maxTokens: 30 } } });
    await owner.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    intruder.send({ action: 'llm/cancel', requestId: 'mine' });
    // The intruder's connection has no request "mine": its cancel is a no-op, answered by nothing.
    intruder.send({ action: 'ping', requestId: 'after' });
    await intruder.waitFor((frames) => frames.some((f) => f.type === 'pong'));
    const end = await owner.terminal('mine');
    expect(end.type).toBe('done');
    expect(intruder.frames.map((f) => f.type)).toEqual(['pong']);
  });

  it('a client that disconnects mid-stream stops its generation, loses its record, and others are still served', async () => {
    const { client: leaver, connectionId: leaverId } = await connectTracked(local);
    pool.track(leaver);
    const stayer = await connect();
    expect(await connections.get(leaverId)).toBeDefined();
    leaver.send(ask('gone'));
    await leaver.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    leaver.socket.terminate();
    await until(() => requests.size === 0, 'the generation to stop');
    expect(await connections.get(leaverId)).toBeUndefined();
    stayer.send({ ...ask('still-here', 'short one'), data: { messages: [{ role: 'user', content: 'short' }], inferenceConfig: { maxTokens: 5 } } });
    expect((await stayer.terminal('still-here')).type).toBe('done');
  });

  it('a 410 from the management API mid-stream aborts the model and removes the record', async () => {
    await local.stop();
    let gone = false;
    local = await startLocal(SLOW, {
      deps: { connections, requests },
      beforePost: () => (gone ? { status: 410, errorType: 'GoneException' } : undefined),
    });
    const { client, connectionId: id } = await connectTracked(local);
    pool.track(client);
    client.send(ask('stale'));
    await client.waitFor((frames) => frames.some((f) => f.type === 'chunk'));
    gone = true;
    await until(() => requests.size === 0, 'the generation to stop');
    expect(await connections.get(id)).toBeUndefined();
    const count = client.frames.length;
    await quiesce(local);
    expect(client.frames.length).toBe(count);
  });

  it('a 429 LimitExceeded from the management API is retried and the stream arrives intact', async () => {
    await local.stop();
    let throttled = 0;
    local = await startLocal(
      { MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '30' },
      {
        deps: { connections, requests },
        beforePost: (_id, data) => {
          if (data.toString().includes('"seq":1,') && throttled === 0) {
            throttled += 1;
            return { status: 429, errorType: 'LimitExceededException' };
          }
          return undefined;
        },
      },
    );
    const client = await connect();
    client.send(ask('throttled', 'q'));
    expect((await client.terminal('throttled', 10_000)).type).toBe('done');
    expect(throttled).toBe(1);
    const chunks = client.of('throttled').filter((f) => f.type === 'chunk');
    expect(chunks.map((f) => f.seq)).toEqual(chunks.map((_, i) => i));
  });
});
