import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { GatewayClient, type GatewayClientOptions, type GatewayError, type Status, type WebSocketConstructor } from '../../client/src/index.js';
import type { LocalGateway } from '../../src/local/emulator';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { TcpProxy } from '../helpers/tcp-proxy';
import { until } from '../helpers/ws-client';

const AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };
const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }] });

/** A browser's view of a refused handshake: an error event that names no HTTP status, then a close. */
class BrowserLikeWebSocket {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: ((event: object) => void) | null = null;
  private readonly inner: WebSocket;

  constructor(url: string) {
    this.inner = new WebSocket(url);
    this.inner.onopen = (event) => this.onopen?.(event);
    this.inner.onmessage = (event) => this.onmessage?.(event);
    this.inner.onclose = (event) => this.onclose?.(event);
    this.inner.onerror = () => this.onerror?.({});
  }

  get readyState(): number {
    return this.inner.readyState;
  }

  send(data: string): void {
    this.inner.send(data);
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
}

describe('the client when the gateway refuses the connection', () => {
  let local: LocalGateway;
  let client: GatewayClient;

  beforeEach(async () => {
    local = await startLocal(AUTH);
  });
  afterEach(async () => {
    await client?.close();
    await local.stop();
  });

  function watch(c: GatewayClient): { statuses: Status[]; errors: GatewayError[] } {
    const seen = { statuses: [] as Status[], errors: [] as GatewayError[] };
    c.on('status', (status, error) => {
      seen.statuses.push(status);
      if (error) seen.errors.push(error);
    });
    return seen;
  }

  it('with ws (HTTP status visible): asks the token function once more, then stops with `unauthorized` and the 401 — requests waiting fail with it', async () => {
    let asked = 0;
    client = new GatewayClient({
      url: local.url,
      WebSocket,
      token: () => {
        asked += 1;
        return 'not-a-jwt';
      },
    });
    const seen = watch(client);
    const stream = client.stream(ask('hello?'));
    const connecting = client.connect();
    await expect(connecting).rejects.toMatchObject({ code: 'unauthorized', httpStatus: 401 });
    await expect(stream.done).rejects.toMatchObject({ code: 'unauthorized', httpStatus: 401, retryable: false });
    expect(asked).toBe(2);
    expect(client.status).toBe('unauthorized');
    expect(seen.statuses.at(-1)).toBe('unauthorized');
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]!.message).toMatch(/refused the connection \(HTTP 401\): the token is missing, invalid or expired/);
    // It stays stopped: no further handshakes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(asked).toBe(2);
  });

  it('gets through when the second token is good (an expired one refreshed), and the request goes on', async () => {
    const tokens = ['expired', await hs256(claims({ sub: 'refreshed' }))];
    client = new GatewayClient({ url: local.url, WebSocket, token: () => tokens.shift() ?? 'none' });
    const seen = watch(client);
    const answer = await client.chat(ask('after a refresh'));
    expect(answer.stopReason).toBe('end_turn');
    expect(seen.statuses).toEqual(['connecting', 'open']);
    expect(seen.errors).toEqual([]);
  });

  it('in a browser (no status shown): after `refusedAfterFailures` handshakes fail before any opened, and one more once its host answered HTTP, says the gateway refused the connection; connect() tries again', async () => {
    let attempts = 0;
    const token = () => {
      attempts += 1;
      return 'bad';
    };
    client = new GatewayClient({ url: local.url, WebSocket: BrowserLikeWebSocket, token, refusedAfterFailures: 3, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
    const seen = watch(client);
    await expect(client.connect()).rejects.toMatchObject({ code: 'unauthorized', httpStatus: undefined });
    expect(seen.statuses).toEqual(['connecting', 'reconnecting', 'unauthorized']);
    expect(seen.errors[0]!.message).toMatch(/refused the connection \(4 attempts failed before any opened, the last while its host answers\): check the token/);
    // 3, then the probe (the emulator answers HTTP), then one more at once.
    expect(attempts).toBe(4);
    await expect(client.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(attempts).toBe(8);
  });

  it('once it has been open, failures are the network’s: it keeps reconnecting, never calls them a refusal', async () => {
    client = new GatewayClient({ url: local.url, WebSocket: BrowserLikeWebSocket, token: await hs256(claims({ sub: 'u1' })), refusedAfterFailures: 2, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    let attempts = 0;
    const token = await hs256(claims({ sub: 'u1' }));
    // One address for both servers (a proxy bound once), so no port is freed and bound again.
    const proxy = await TcpProxy.start(local.port);
    try {
      client = new GatewayClient({
        url: local.url.replace(`:${local.port}`, `:${proxy.port}`),
        WebSocket: BrowserLikeWebSocket,
        token: () => ((attempts += 1), token),
        refusedAfterFailures: 2,
        reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
      });
      const seen = watch(client);
      await client.connect();
      proxy.pointAt(undefined);
      proxy.cut();
      await until(() => attempts >= 6, 'several failed reconnects', 10_000);
      expect(client.status).toBe('reconnecting');
      expect(seen.statuses).not.toContain('unauthorized');
      proxy.pointAt(local.port);
      await until(() => client.status === 'open', 'the reconnect', 10_000);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });
});

/**
 * Offline, a name that does not resolve, nothing listening: the gateway was never asked, so no
 * token was refused. An app that signs its user out on `unauthorized` must not do it then.
 */
describe('the client when the gateway cannot be reached', () => {
  let local: LocalGateway;
  let proxy: TcpProxy;
  let client: GatewayClient | undefined;
  let token: string;

  beforeEach(async () => {
    local = await startLocal(AUTH);
    // A host that takes no connection: every one through it is reset, as when nothing listens.
    proxy = await TcpProxy.start(undefined);
    token = await hs256(claims({ sub: 'u1' }));
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await proxy.stop();
    await local.stop();
  });

  function watch(c: GatewayClient): { statuses: Status[]; errors: GatewayError[] } {
    const seen = { statuses: [] as Status[], errors: [] as GatewayError[] };
    c.on('status', (status, error) => {
      seen.statuses.push(status);
      if (error) seen.errors.push(error);
    });
    return seen;
  }

  /** A client of `url` that counts its handshakes (its token function is read once for each). */
  function counting(url: string, WebSocketImpl: WebSocketConstructor, extra: Partial<GatewayClientOptions> = {}): { client: GatewayClient; attempts: () => number } {
    let attempts = 0;
    const made = new GatewayClient({ url, WebSocket: WebSocketImpl, token: () => ((attempts += 1), token), refusedAfterFailures: 2, reconnect: { initialDelayMs: 10, maxDelayMs: 40 }, ...extra });
    return { client: made, attempts: () => attempts };
  }

  for (const [platform, Impl] of [
    ['with ws (the failure names its cause)', WebSocket],
    ['in a browser (no status, no cause: the client probes the gateway’s origin)', BrowserLikeWebSocket],
  ] as const) {
    it(`${platform}: a host where nothing answers is \`unreachable\` (retryable) — retried with backoff past refusedAfterFailures, never \`unauthorized\`, and connected once the gateway is there`, async () => {
      const made = counting(proxy.url(), Impl);
      client = made.client;
      const seen = watch(client);
      const connecting = client.connect();
      await until(() => made.attempts() >= 6, 'several failed handshakes', 10_000);
      expect(client.status).toBe('reconnecting');
      expect(seen.statuses).not.toContain('unauthorized');
      expect(seen.errors.length).toBeGreaterThanOrEqual(1);
      expect(seen.errors.every((error) => error.code === 'unreachable' && error.retryable)).toBe(true);
      expect(seen.errors[0]!.message).toMatch(/could not be reached/);
      // The network is back: the same connect() resolves.
      proxy.pointAt(local.port);
      await connecting;
      expect(client.status).toBe('open');
    });
  }

  it('with ws: a name that does not resolve is `unreachable`, and a request waiting for the connection fails with it when its wait is over', async () => {
    // A resolver that knows no such name, as DNS answers for `.invalid` (asked without DNS: a
    // lookup left in flight would outlive the test).
    class NoSuchName extends WebSocket {
      constructor(url: string) {
        super(url, { lookup: (hostname, _options, callback) => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4) });
      }
    }
    const made = counting('ws://gateway.invalid/local', NoSuchName, { connectTimeoutMs: 1500 });
    client = made.client;
    const seen = watch(client);
    const answer = client.chat(ask('anyone there?'));
    await expect(answer).rejects.toMatchObject({ code: 'unreachable', retryable: true });
    expect(made.attempts()).toBeGreaterThan(2);
    expect(seen.statuses).not.toContain('unauthorized');
    expect(seen.errors[0]!.message).toMatch(/could not be reached \(getaddrinfo \w+ gateway\.invalid\)/);
  });

  it('with ws: a handshake answered with a status other than 401/403 (the gateway failing, a wrong path) is `unreachable` with its httpStatus, and retried', async () => {
    const failing = createServer();
    failing.on('upgrade', (_req, socket: Duplex) => {
      // The client may reset the socket as it reads the refusal: an 'error' with no listener would throw (read ECONNRESET).
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const made = counting(`ws://127.0.0.1:${(failing.address() as AddressInfo).port}/local`, WebSocket);
      client = made.client;
      const seen = watch(client);
      void client.connect().catch(() => undefined);
      await until(() => made.attempts() >= 5, 'several failed handshakes', 10_000);
      expect(seen.statuses).not.toContain('unauthorized');
      expect(seen.errors[0]).toMatchObject({ code: 'unreachable', httpStatus: 503, retryable: true });
      expect(seen.errors[0]!.message).toMatch(/HTTP 503/);
    } finally {
      await client?.close();
      client = undefined;
      failing.closeAllConnections();
      await new Promise<void>((resolve) => failing.close(() => resolve()));
    }
  });
});
