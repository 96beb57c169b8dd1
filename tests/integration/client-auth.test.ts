import WebSocket from 'ws';
import { GatewayClient, type GatewayError, type Status } from '../../client/src/index.js';
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

  it('in a browser (no status shown): after `refusedAfterFailures` handshakes fail before any opened, says the gateway refused the connection; connect() tries again', async () => {
    let attempts = 0;
    const token = () => {
      attempts += 1;
      return 'bad';
    };
    client = new GatewayClient({ url: local.url, WebSocket: BrowserLikeWebSocket, token, refusedAfterFailures: 3, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
    const seen = watch(client);
    await expect(client.connect()).rejects.toMatchObject({ code: 'unauthorized', httpStatus: undefined });
    expect(seen.statuses).toEqual(['connecting', 'reconnecting', 'unauthorized']);
    expect(seen.errors[0]!.message).toMatch(/refused the connection \(3 attempts failed before any opened\): check the token/);
    expect(attempts).toBe(3);
    await expect(client.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(attempts).toBe(6);
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
