import type { LocalGateway } from '../../src/local/emulator';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import type { WsEvent } from '../../src/utils/lambda';
import { AUDIENCE, claims, hs256, ISSUER, SECRET, unsigned } from '../helpers/jwt';
import { connectTracked, startLocal } from '../helpers/local';
import { TestClient, until } from '../helpers/ws-client';

const now = () => Math.floor(Date.now() / 1000);

describe('the emulator runs the $connect authorizer like API Gateway', () => {
  let local: LocalGateway;
  let connections: MemoryConnectionStore;
  const events: WsEvent[] = [];

  beforeAll(async () => {
    connections = new MemoryConnectionStore();
    local = await startLocal(
      { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
      { deps: { connections }, onEvent: (event) => events.push(event) },
    );
  });
  afterAll(() => local.stop());

  it.each<[string, () => Promise<string> | string]>([
    ['a forged signature', () => hs256(claims(), 'x'.repeat(40))],
    ['alg: none', () => unsigned()],
    ['an expired token', () => hs256(claims({ exp: now() - 600 }))],
    ['a token not yet valid', () => hs256(claims({ nbf: now() + 600 }))],
    ['the wrong issuer', () => hs256(claims({ iss: 'https://evil.test' }))],
    ['the wrong audience', () => hs256(claims({ aud: 'other' }))],
    ['a malformed token', () => 'abc.def'],
  ])('refuses the handshake with 401 for %s, and never runs $connect', async (_name, make) => {
    const before = events.length;
    expect(await TestClient.refusal(`${local.url}?token=${encodeURIComponent(await make())}`)).toBe(401);
    expect(events.length).toBe(before);
  });

  it('refuses a handshake without a token with 401', async () => {
    expect(await TestClient.refusal(local.url)).toBe(401);
  });

  it('brings the userId of a valid token to $connect, the store and every later event', async () => {
    const { client, connectionId } = await connectTracked(local, {}, `?token=${await hs256()}`);
    client.send({ action: 'ping' });
    await client.waitFor((frames) => frames.length === 1);
    expect((await connections.get(connectionId))?.userId).toBe('user-42');
    const mine = events.filter((e) => e.requestContext.connectionId === connectionId);
    expect(mine.map((e) => e.requestContext.eventType)).toEqual(['CONNECT', 'MESSAGE']);
    for (const event of mine) {
      expect(event.requestContext.authorizer).toMatchObject({ userId: 'user-42', principalId: 'user-42', integrationLatency: expect.any(Number) });
    }
    await client.close();
  });

  it('refuses a user’s connection past MAX_CONNECTIONS_PER_USER with 429, and admits again after one closes', async () => {
    const counters = new MemoryCounterStore();
    const capped = await startLocal({ AUTH_JWT_SECRET: SECRET, MAX_CONNECTIONS_PER_USER: '2' }, { deps: { counters } });
    try {
      const token = await hs256(claims({ sub: 'busy-user' }));
      const url = `${capped.url}?token=${token}`;
      const first = await TestClient.connect(url);
      const second = await TestClient.connect(url);
      expect(await TestClient.refusal(url)).toBe(429);
      const other = await TestClient.connect(`${capped.url}?token=${await hs256(claims({ sub: 'someone-else' }))}`);
      await first.close();
      await until(() => counters.total('conns:user:busy-user') === 1, 'the $disconnect');
      const again = await TestClient.connect(url);
      await Promise.all([second.close(), other.close(), again.close()]);
    } finally {
      await capped.stop();
    }
  });

  it('accepts Authorization: Bearer from server clients, with the token\'s userId', async () => {
    const before = new Set(local.connectionIds());
    const client = await TestClient.connect(local.url, { headers: { Authorization: `Bearer ${await hs256(claims({ sub: 'header-user' }))}` } });
    const [connectionId] = local.connectionIds().filter((id) => !before.has(id));
    expect((await connections.get(connectionId!))?.userId).toBe('header-user');
    await client.close();
  });
});
