/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { startLocal } from '../helpers/local';
import { sleep } from '../helpers/ws-client';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => path !== undefined && path !== '' && existsSync(path),
);
if (!CHROMIUM) {
  console.warn(
    '\n*** BROWSER TESTS SKIPPED: no Chromium found. Install it with `apt-get install chromium` ' +
      '(Debian) or set CHROMIUM_PATH. .ci/run installs it. ***\n',
  );
}
const describeBrowser = CHROMIUM ? describe : describe.skip;

const ENV = { MOCK_TOKEN_DELAY_MS: '25', MOCK_ANSWER_TOKENS: '80', STREAM_FLUSH_INTERVAL_MS: '50' };

describeBrowser('test-client.html in headless Chromium', () => {
  let browser: Browser;
  let local: LocalGateway;
  let page: Page;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => {
    local = await startLocal(ENV);
    page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    await page.goto(local.pageUrl);
    await page.getByTestId('connect').click();
    await page.waitForSelector('[data-testid="status"][data-state="open"]');
  });
  afterEach(async () => {
    await page.close();
    await local.stop();
  });

  async function ask(prompt: string): Promise<string> {
    await page.getByTestId('prompt').fill(prompt);
    await page.getByTestId('prompt').press('Enter');
    const answer = page.locator('[data-testid="messages"] li[data-request-id]').last();
    await answer.waitFor();
    return (await answer.getAttribute('data-request-id')) as string;
  }
  const answerOf = (requestId: string) => page.locator(`li[data-request-id="${requestId}"]`);

  it('streams an answer that grows on screen before it is done, then shows its usage', async () => {
    const id = await ask('What is a WebSocket gateway?');
    const answer = answerOf(id);
    const lengths: number[] = [];
    while ((await answer.locator('.usage').count()) === 0) {
      lengths.push(((await answer.locator('.answer').textContent()) ?? '').length);
      await sleep(60);
    }
    const growing = lengths.filter((n, i) => i > 0 && n > lengths[i - 1]!);
    expect(growing.length).toBeGreaterThanOrEqual(3);
    expect(await answer.locator('.answer').textContent()).toContain('You said: "What is a WebSocket gateway?"');
    const usage = (await answer.locator('.usage').textContent()) ?? '';
    expect(usage).toMatch(/mock\.echo-v1 · \d+ tokens in · 80 out · first token \d+ ms · total \d+ ms · stop: end_turn/);
    // The README's picture: regenerate with `SCREENSHOT=1 npm test` (kept out of ordinary runs
    // so a test run leaves the tree clean).
    await page.screenshot({ path: process.env.SCREENSHOT === '1' ? 'docs/screenshot.png' : `${tmpdir()}/chat-page.png` });
  });

  it('Stop ends the answer mid-way and keeps what arrived', async () => {
    const id = await ask('Tell me a long story');
    const answer = answerOf(id);
    await page.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').length > 20, id);
    await page.getByTestId('stop').click();
    await answer.locator('.usage').waitFor();
    expect(await answer.locator('.usage').textContent()).toBe('stopped');
    expect(await answer.locator('.usage').getAttribute('data-error-code')).toBe('cancelled');
    const words = ((await answer.locator('.answer').textContent()) ?? '').split(' ').length;
    expect(words).toBeLessThan(80);
    expect(await page.getByTestId('send').isEnabled()).toBe(true);
  });

  it('shows model output containing HTML and script as text, running nothing', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>';
    const id = await ask(evil);
    const answer = answerOf(id);
    await answer.locator('.usage').waitFor();
    expect(await answer.locator('.answer').textContent()).toContain(evil);
    expect(await page.locator('[data-testid="messages"] img, [data-testid="messages"] script, [data-testid="messages"] b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('shows an error frame with its code', async () => {
    await page.locator('#model').fill('no-such-model');
    const id = await ask('hello');
    const answer = answerOf(id);
    await answer.locator('.usage').waitFor();
    expect(await answer.locator('.usage').textContent()).toMatch(/^model_not_allowed: Model "no-such-model" is not allowed/);
    expect(await answer.getAttribute('class')).toContain('error');
  });

  it('reconnects by itself after the local server restarts', async () => {
    const port = local.port;
    await local.stop();
    await page.waitForSelector('[data-testid="status"]:not([data-state="open"])');
    local = await startLocal(ENV, { server: { port } });
    await page.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: 15_000 });
    const id = await ask('back again');
    await answerOf(id).locator('.usage').waitFor();
    expect(await answerOf(id).locator('.usage').textContent()).toMatch(/stop: end_turn/);
  });

  it('resumes an answer by itself when its connection is deleted mid-way, and shows it whole, once', async () => {
    const prompt = 'a long answer, please';
    const id = await ask(prompt);
    const answer = answerOf(id);
    await page.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').length > 30, id);
    // What a network switch looks like from API Gateway's side: the connection is gone.
    const [connectionId] = local.connectionIds();
    const deleted = await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    await answer.locator('.usage').waitFor({ timeout: 20_000 });
    expect(await answer.locator('.usage').textContent()).toMatch(/stop: end_turn/);
    expect(await answer.getAttribute('data-resumes')).toBe('1');
    expect(await answer.locator('.answer').textContent()).toBe(mockAnswerTokens(prompt, 80).join(''));
  });
});
