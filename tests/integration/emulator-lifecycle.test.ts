import net from 'node:net';
import type { LocalGateway } from '../../src/local/emulator';
import type { ConnectionRecord } from '../../src/models/connection';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import type { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import type { WsEvent } from '../../src/utils/lambda';
import { dynamoClient, slowProxy, useDynalite } from '../helpers/dynamo';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { TestClient, until } from '../helpers/ws-client';

const AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };

/** A connection store whose writes take a while, as a slow $connect integration does. */
class SlowConnectionStore extends MemoryConnectionStore {
  constructor(private readonly delayMs: number) {
    super();
  }

  override async put(record: ConnectionRecord): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    await super.put(record);
  }
}

/** Resolves once something accepts TCP connections on the port. */
async function listening(port: number): Promise<void> {
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    'the port to listen',
    10_000,
  );
}

describe('the emulator’s connection lifecycle', () => {
  const dynalite = useDynalite();

  it('sends $disconnect for a client that half-closes while $connect runs, so its connection slot comes back', async () => {
    const events: WsEvent[] = [];
    const local = await startLocal(
      { ...AUTH, MAX_CONNECTIONS_PER_USER: '1' },
      { deps: { connections: new SlowConnectionStore(300) }, onEvent: (event) => events.push(event) },
    );
    try {
      const token = await hs256(claims({ sub: 'half-closer' }));
      const raw = net.connect(local.port, '127.0.0.1');
      await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
      raw.on('error', () => undefined);
      raw.end(
        `GET /local?token=${token} HTTP/1.1\r\nHost: 127.0.0.1:${local.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      await until(() => events.some((e) => e.requestContext.eventType === 'DISCONNECT'), 'the $disconnect of the abandoned handshake', 5000);
      const [connect, disconnect] = events;
      expect(disconnect?.requestContext.connectionId).toBe(connect?.requestContext.connectionId);
      await until(() => (local.gateway.deps.counters as MemoryCounterStore).total('conns:') === 0, 'the connection slot to be released');
      // The user holds no connection now, so at a cap of one a fresh connection is let in.
      const next = await TestClient.connect(`${local.url}?token=${token}`);
      await next.close();
    } finally {
      await local.stop();
    }
  });

  it('holds the per-user connection cap exactly under 30 parallel handshakes on DynamoDB', async () => {
    const local = await startLocal({ ...AUTH, MAX_CONNECTIONS_PER_USER: '3', DYNAMODB_ENDPOINT: dynalite.endpoint, CONNECTIONS_TABLE: 'cap-race' }, { clients: { dynamoClient: dynalite.client } });
    try {
      const token = await hs256(claims({ sub: 'crowd' }));
      const attempts = await Promise.allSettled(Array.from({ length: 30 }, () => TestClient.connect(`${local.url}?token=${token}`)));
      const opened = attempts.filter((a): a is PromiseFulfilledResult<TestClient> => a.status === 'fulfilled').map((a) => a.value);
      const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
      expect(opened).toHaveLength(3);
      for (const refusal of refused) expect(String(refusal.reason)).toContain('429');
      await Promise.all(opened.map((ws) => ws.close()));
      // Their $disconnects give the slots back: three may connect again.
      await until(async () => {
        const again = await Promise.allSettled([1, 2, 3].map(() => TestClient.connect(`${local.url}?token=${token}`)));
        const ok = again.filter((a): a is PromiseFulfilledResult<TestClient> => a.status === 'fulfilled');
        await Promise.all(ok.map((a) => a.value.close()));
        return ok.length === 3;
      }, 'three slots free again', 5000);
    } finally {
      await local.stop();
    }
  });

  it('serves a client that connects while the emulator is still creating its DynamoDB table', async () => {
    // Every DynamoDB call takes 300 ms, so creating the table keeps the emulator busy for a while.
    const proxy = await slowProxy(dynalite.endpoint, 300);
    const slowClient = dynamoClient(proxy.endpoint);
    // Port 0, bound once by the emulator: it tells the port as soon as it listens.
    let port = 0;
    const starting = startLocal(
      { DYNAMODB_ENDPOINT: proxy.endpoint, CONNECTIONS_TABLE: `early-${process.pid}` },
      { server: { port: 0 }, clients: { dynamoClient: slowClient }, onListening: (open) => (port = open) },
    );
    let local: LocalGateway | undefined;
    try {
      let started = false;
      void starting.then(() => (started = true));
      await until(() => port !== 0, 'the port to be bound');
      await listening(port);
      // The port is open and the emulator not ready: this handshake is held, then served.
      expect(started).toBe(false);
      const early = await TestClient.connect(`ws://127.0.0.1:${port}/local`, { handshakeTimeout: 8000 });
      local = await starting;
      early.send({ action: 'ping', requestId: 'early' });
      await early.waitFor((frames) => frames.some((f) => f.type === 'pong'));
      await early.close();
    } finally {
      await (local ?? (await starting)).stop();
      slowClient.destroy();
      await proxy.stop();
    }
  });

  it('runs on a local DynamoDB endpoint on a machine with no AWS credentials at all', async () => {
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_') && name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED') delete process.env[name];
    // No profile files and no instance metadata: the SDK's default chain finds nothing.
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', AWS_EC2_METADATA_DISABLED: 'true' });
    try {
      const local = await startLocal({ DYNAMODB_ENDPOINT: dynalite.endpoint, CONNECTIONS_TABLE: 'no-credentials' });
      try {
        const ws = await TestClient.connect(local.url);
        ws.send({ action: 'llm/stream', requestId: 'r', data: { messages: [{ role: 'user', content: 'hi' }] } });
        expect((await ws.terminal('r')).type).toBe('done');
        await ws.close();
      } finally {
        await local.stop();
      }
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});
