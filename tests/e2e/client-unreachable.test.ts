/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import { describeBrowser, launchChromium, UNRESOLVABLE_HOST } from '../helpers/browser';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { TcpProxy } from '../helpers/tcp-proxy';
import { until } from '../helpers/ws-client';

/** What a client made in the page saw: its statuses (with their error), its handshakes, how connect() ended. */
interface Seen {
  readonly statuses: Array<{ status: string; code?: string; message?: string; httpStatus?: number }>;
  readonly attempts: number;
  /** 'open', or the code it rejected with. */
  readonly connect?: string;
}
type PageWindow = Window & {
  GatewayClientLib: { GatewayClient: new (options: object) => { on(event: 'status', listener: (status: string, error?: { code: string; message: string; httpStatus?: number }) => void): void; connect(): Promise<void>; close(): Promise<void> } };
  seen: Seen & { statuses: Seen['statuses']; attempts: number; connect?: string };
  probe?: { close(): Promise<void> };
};

/**
 * The client in Chromium, where a failed handshake says nothing (no HTTP status, close code
 * 1006 whatever happened): a token the gateway refuses must read `unauthorized`, and a gateway
 * that cannot be reached — nothing listening, a name that does not resolve — `unreachable`,
 * retried until it is back. The client is the chat page's own copy (window.GatewayClientLib).
 */
describeBrowser('the client in Chromium: a refused token, or a gateway that cannot be reached', () => {
  let browser: Browser;
  let local: LocalGateway;
  let proxy: TcpProxy;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => {
    local = await startLocal({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    // A host that takes no connection: every one through it is reset, as when nothing listens.
    proxy = await TcpProxy.start(undefined);
    page = await browser.newPage();
    await page.goto(local.pageUrl);
  });
  afterEach(async () => {
    await page.evaluate(() => (window as unknown as PageWindow).probe?.close());
    await page.close();
    await proxy.stop();
    await local.stop();
  });

  /** Starts a client of `url` in the page, with `token`, that gives up on refusals after 2 failures. */
  function start(url: string, token: string, connectTimeoutMs = 30_000): Promise<void> {
    return page.evaluate(
      ([target, jwt, wait]) => {
        const w = window as unknown as PageWindow;
        w.seen = { statuses: [], attempts: 0 };
        const client = new w.GatewayClientLib.GatewayClient({
          url: target,
          token: () => ((w.seen.attempts += 1), jwt),
          refusedAfterFailures: 2,
          reconnect: { initialDelayMs: 10, maxDelayMs: 40 },
          connectTimeoutMs: wait,
        });
        w.probe = client;
        client.on('status', (status, error) => w.seen.statuses.push({ status, ...(error ? { code: error.code, message: error.message, httpStatus: error.httpStatus } : {}) }));
        client.connect().then(
          () => (w.seen.connect = 'open'),
          (error: { code: string }) => (w.seen.connect = error.code),
        );
      },
      [url, token, connectTimeoutMs] as const,
    );
  }
  const seen = (): Promise<Seen> => page.evaluate(() => (window as unknown as PageWindow).seen);
  /** Waits until what the page's client saw satisfies `test`. */
  const waitUntil = (test: (now: Seen) => boolean, what: string) => until(async () => test(await seen()), what, 15_000);

  it('a token the emulator refuses is `unauthorized`: its host answers, so the failed handshakes were refusals', async () => {
    await start(local.url, 'not-a-jwt');
    await waitUntil((now) => now.statuses.some((s) => s.status === 'unauthorized'), 'status unauthorized');
    const { statuses, connect } = await seen();
    expect(statuses.find((s) => s.status === 'unauthorized')).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/while its host answers\): check the token/) as string });
    expect(statuses.find((s) => s.status === 'unauthorized')?.httpStatus).toBeUndefined();
    expect(statuses.some((s) => s.code === 'unreachable')).toBe(false);
    expect(connect).toBe('unauthorized');
  });

  it('a host where nothing answers is `unreachable` (retryable), retried past refusedAfterFailures — and connected once the gateway is there', async () => {
    await start(proxy.url(), await hs256(claims({ sub: 'page-user' })));
    await waitUntil((now) => now.attempts >= 6, 'six handshakes');
    const before = await seen();
    expect(before.statuses.map((s) => s.status)).not.toContain('unauthorized');
    expect(before.statuses.find((s) => s.code !== undefined)).toMatchObject({ status: 'reconnecting', code: 'unreachable', message: expect.stringMatching(/could not be reached/) as string });
    expect(before.connect).toBeUndefined();
    proxy.pointAt(local.port);
    await waitUntil((now) => now.connect === 'open', 'the connection');
    expect((await seen()).statuses.at(-1)).toEqual({ status: 'open' });
  });

  it('a name that does not resolve is `unreachable`, and connect() ends with it when its wait is over', async () => {
    await start(`ws://${UNRESOLVABLE_HOST}/local`, await hs256(claims({ sub: 'page-user' })), 2000);
    await waitUntil((now) => now.connect !== undefined, 'connect() to end');
    const { statuses, attempts, connect } = await seen();
    expect(connect).toBe('unreachable');
    expect(attempts).toBeGreaterThan(2);
    expect(statuses.map((s) => s.status)).not.toContain('unauthorized');
    expect(statuses.filter((s) => s.code !== undefined).every((s) => s.code === 'unreachable')).toBe(true);
  });

  it('the chat page names an unreachable gateway as such (not a refused token) and connects by itself once it is back', async () => {
    // Auth is on: the page's own first connection, without a token, is refused.
    await page.getByTestId('notice').waitFor({ timeout: 15_000 });
    await page.getByTestId('url').fill(proxy.url());
    await page.getByTestId('token').fill(await hs256(claims({ sub: 'page-user' })));
    await page.getByTestId('connect').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === 'unreachable, retrying…', undefined, { timeout: 15_000 });
    expect(await page.getByTestId('notice').textContent()).toMatch(/^The gateway could not be reached .*It connects by itself/);
    expect(await page.getByTestId('notice').textContent()).not.toMatch(/token/);
    proxy.pointAt(local.port);
    await page.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: 15_000 });
    expect(await page.getByTestId('notice').isVisible()).toBe(false);
  });
});
