/// <reference lib="dom" />
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import type { ChatModel } from '../../src/llm/chat-model';
import { mockAnswerTokens } from '../../src/llm/mock';
import { ask as askOn, describeBrowser, HoldingModel, launchChromium } from '../helpers/browser';
import { startLocal } from '../helpers/local';
import { TcpProxy } from '../helpers/tcp-proxy';
import { until } from '../helpers/ws-client';
import { OpenAiStandIn } from '../helpers/openai-standin';

const ENV = { MOCK_TOKEN_DELAY_MS: '25', MOCK_ANSWER_TOKENS: '80', STREAM_FLUSH_INTERVAL_MS: '50' };

describeBrowser('test-client.html in headless Chromium', () => {
  let browser: Browser;
  let local: LocalGateway;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });
  let model: HoldingModel;
  beforeEach(async () => {
    model = new HoldingModel();
    local = await startLocal(ENV, { deps: { model } });
    page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    // Served by the emulator, the page connects by itself to the endpoint that served it.
    await page.goto(local.pageUrl);
    await page.waitForSelector('[data-testid="status"][data-state="open"]');
  });
  afterEach(async () => {
    await page.close();
    await local.stop();
  });

  const ask = (prompt: string): Promise<string> => askOn(page, prompt);
  const answerOf = (requestId: string) => page.locator(`li[data-request-id="${requestId}"]`);

  it('streams an answer that grows on screen before it is done, then shows its usage', async () => {
    const id = await ask('What is a WebSocket gateway?');
    const answer = answerOf(id);
    // Every length the answer shows until its usage line appears, recorded by the page itself.
    const lengths = await page.evaluate(
      (rid) =>
        new Promise<number[]>((resolve) => {
          const seen: number[] = [];
          const li = document.querySelector(`li[data-request-id="${rid}"]`)!;
          const observer = new MutationObserver(() => {
            seen.push(li.querySelector('.answer')?.textContent?.length ?? 0);
            if (li.querySelector('.usage')) {
              observer.disconnect();
              resolve(seen);
            }
          });
          observer.observe(li, { childList: true, subtree: true, characterData: true });
        }),
      id,
    );
    const growing = lengths.filter((n, i) => i > 0 && n > lengths[i - 1]!);
    expect(growing.length).toBeGreaterThanOrEqual(3);
    expect(await answer.locator('.answer').textContent()).toContain('You said: "What is a WebSocket gateway?"');
    const usage = (await answer.locator('.usage').textContent()) ?? '';
    expect(usage).toMatch(/mock\.echo-v1 · \d+ tokens in · 80 out · first token \d+ ms · total \d+ ms · stop: end_turn/);
  });

  it('Stop ends the answer mid-way and keeps what arrived', async () => {
    model.holdAfter(10);
    const prompt = 'Tell me a long story';
    const id = await ask(prompt);
    const answer = answerOf(id);
    await page.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').length > 20, id);
    await page.getByTestId('stop').click();
    await answer.locator('.usage').waitFor();
    expect(await answer.locator('.usage').textContent()).toBe('stopped');
    expect(await answer.locator('.usage').getAttribute('data-error-code')).toBe('cancelled');
    const shown = (await answer.locator('.answer').textContent()) ?? '';
    const whole = mockAnswerTokens(prompt, 80).join('');
    expect(whole.startsWith(shown)).toBe(true);
    expect(shown.length).toBeLessThan(whole.length);
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

  it('shows an error frame in words, with its code, and Retry sends the question again', async () => {
    await page.locator('#model').fill('no-such-model');
    const id = await ask('hello');
    const answer = answerOf(id);
    await answer.locator('.usage').waitFor();
    expect(await answer.getByTestId('problem').textContent()).toMatch(/^Model "no-such-model" is not allowed/);
    expect(await answer.locator('.usage').textContent()).toBe('model_not_allowed');
    expect(await answer.getAttribute('class')).toContain('error');
    // Readable: the page's own text size, not a footnote.
    expect(await answer.getByTestId('problem').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(15);
    await page.locator('#model').fill('');
    await answer.getByTestId('retry').click();
    const retried = page.locator('li[data-request-id]').last();
    await retried.locator('.usage').waitFor();
    expect(await retried.locator('.usage').textContent()).toMatch(/stop: end_turn/);
    // The failed turn made way for the retried one: one question, one answer.
    expect(await page.locator('[data-testid="messages"] > li').count()).toBe(2);
    expect(await retried.getAttribute('data-request-id')).not.toBe(id);
  });

  it('reconnects by itself after the local server restarts', async () => {
    // One address for both servers (a proxy bound once), so no port is freed and bound again.
    const proxy = await TcpProxy.start(local.port);
    const viaProxy = await browser.newPage();
    try {
      await viaProxy.goto(`http://127.0.0.1:${proxy.port}/`);
      await viaProxy.waitForSelector('[data-testid="status"][data-state="open"]');
      proxy.pointAt(undefined);
      proxy.cut();
      await local.stop();
      await viaProxy.waitForSelector('[data-testid="status"]:not([data-state="open"])');
      local = await startLocal(ENV, { deps: { model } });
      proxy.pointAt(local.port);
      await viaProxy.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: 15_000 });
      await viaProxy.getByTestId('prompt').fill('back again');
      await viaProxy.getByTestId('prompt').press('Enter');
      const usage = viaProxy.locator('li[data-request-id] .usage').last();
      await usage.waitFor();
      expect(await usage.textContent()).toMatch(/stop: end_turn/);
    } finally {
      await viaProxy.close();
      await proxy.stop();
    }
  });

  it('resumes an answer by itself when its connection is deleted mid-way, and shows it whole, once', async () => {
    const prompt = 'a long answer, please';
    model.holdAfter(12);
    const id = await ask(prompt);
    const answer = answerOf(id);
    await page.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').length > 30, id);
    // What a network switch looks like from API Gateway's side: the connection is gone.
    const [connectionId] = local.connectionIds();
    const deleted = await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    // The page reconnects while the answer is held mid-way; then the answer goes on to its end.
    await page.waitForSelector('[data-testid="status"][data-state="open"]', { timeout: 20_000 });
    await until(() => local.connectionIds().some((other) => other !== connectionId), 'the page to reconnect', 20_000);
    model.release();
    await answer.locator('.usage').waitFor({ timeout: 20_000 });
    expect(await answer.locator('.usage').textContent()).toMatch(/stop: end_turn/);
    expect(await answer.getAttribute('data-resumes')).toBe('1');
    expect(await answer.locator('.answer').textContent()).toBe(mockAnswerTokens(prompt, 80).join(''));
  });

  it('on `resumed` says the answer was resumed, and shows chunks the gateway replays again only once', async () => {
    // The page's socket goes through Playwright, which makes its resume ask from seq 0: the
    // gateway then replays chunks the page already shows (as a resume on the same connection
    // does, PROTOCOL.md), and the client must drop them.
    const asked: number[] = [];
    const replaying = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    try {
      await replaying.routeWebSocket(/^ws:/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((message) => {
          const frame = JSON.parse(String(message)) as { action?: string; data?: { fromSeq?: number } };
          if (frame.action === 'llm/resume' && frame.data) {
            asked.push(frame.data.fromSeq ?? 0);
            frame.data.fromSeq = 0;
          }
          server.send(JSON.stringify(frame));
        });
      });
      const others = new Set(local.connectionIds()); // the suite's own page is connected too
      await replaying.goto(local.pageUrl);
      await replaying.waitForSelector('[data-testid="status"][data-state="open"]');
      const prompt = 'resume and replay';
      model.holdAfter(12);
      const id = await askOn(replaying, prompt);
      const li = replaying.locator(`li[data-request-id="${id}"]`);
      await replaying.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').length > 30, id);
      expect(await li.getByTestId('resumed').count()).toBe(0);
      const connectionId = local.connectionIds().find((other) => !others.has(other));
      await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
      // Resumed: the page says so while the answer is still held mid-way.
      await li.getByTestId('resumed').waitFor({ timeout: 20_000 });
      expect(await li.getByTestId('resumed').textContent()).toMatch(/resumed/i);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toBeGreaterThan(0);
      model.release();
      await li.locator('.usage').waitFor({ timeout: 20_000 });
      expect(await li.locator('.answer').textContent()).toBe(mockAnswerTokens(prompt, 80).join(''));
      expect(await li.getAttribute('data-resumes')).toBe('1');
      expect(await li.getByTestId('resumed').isVisible()).toBe(true);
    } finally {
      await replaying.close();
    }
  }, 60_000);

  it('works opened from disk too: its protocol code is the client package, inlined', async () => {
    const fromDisk = await browser.newPage();
    try {
      await fromDisk.goto(`file://${resolve('test-client.html')}`);
      expect(await fromDisk.getByTestId('status').getAttribute('data-state')).toBe('idle');
      expect(await fromDisk.evaluate(() => typeof (window as unknown as { GatewayClientLib?: { GatewayClient?: unknown } }).GatewayClientLib?.GatewayClient)).toBe('function');
      await fromDisk.getByTestId('url').fill(local.url);
      await fromDisk.getByTestId('connect').click();
      await fromDisk.waitForSelector('[data-testid="status"][data-state="open"]');
      await fromDisk.getByTestId('prompt').fill('from disk');
      await fromDisk.getByTestId('prompt').press('Enter');
      await fromDisk.locator('li[data-request-id] .usage').waitFor();
      expect(await fromDisk.locator('li[data-request-id] .usage').textContent()).toMatch(/stop: end_turn/);
    } finally {
      await fromDisk.close();
    }
  });

  it('renders Markdown safely: a code block with a copy button, a list, emphasis — and raw HTML stays text', async () => {
    const answer = 'Here is **bold** and `code`:\n\n```js\nconst a = \'<b>x</b>\';\n```\n\n- one\n- two <img src=x onerror="window.__pwned=1">';
    const markdownModel: ChatModel = {
      async *stream(request) {
        for (const piece of answer.match(/[\s\S]{1,7}/g) ?? []) {
          await new Promise((tick) => setTimeout(tick, 2));
          yield { type: 'delta', text: piece };
        }
        yield { type: 'end', stopReason: 'end_turn', modelId: request.modelId, usage: { inputTokens: 1, outputTokens: 9, totalTokens: 10 } };
      },
    };
    await page.close();
    await local.stop();
    local = await startLocal(ENV, { deps: { model: markdownModel } });
    page = await browser.newPage();
    await page.goto(local.pageUrl);
    await page.waitForSelector('[data-testid="status"][data-state="open"]');
    const id = await ask('markdown please');
    const li = answerOf(id);
    await li.locator('.usage').waitFor();
    expect(await li.locator('.answer strong').textContent()).toBe('bold');
    expect(await li.locator('.answer pre code').textContent()).toBe("const a = '<b>x</b>';");
    expect(await li.locator('.answer figure figcaption button.copy').count()).toBe(1);
    expect(await li.locator('.answer ul li').count()).toBe(2);
    // A list item of an answer is a list item, not a chat bubble (only the page's own items are).
    const item = await li.locator('.answer ul li').first().evaluate((el) => {
      const style = getComputedStyle(el);
      return { border: style.borderTopWidth, bullet: getComputedStyle(el.parentElement!).listStyleType, radius: style.borderTopLeftRadius };
    });
    expect(item).toEqual({ border: '0px', bullet: 'disc', radius: '0px' });
    expect(await page.locator('[data-testid="messages"] img, [data-testid="messages"] b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('answers from an OpenAI-compatible server (the Chat Completions stand-in), marking a usage the server did not report as estimated', async () => {
    const server = await new OpenAiStandIn().start();
    try {
      server.scenario = () => ({ kind: 'stream', tokens: ['Hello ', 'from ', 'llama'], usage: 'none' });
      await page.close();
      await local.stop();
      local = await startLocal({ ...ENV, LLM_PROVIDER: 'openai', OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: 'ollama', ALLOWED_MODEL_IDS: 'llama3.2' });
      page = await browser.newPage();
      await page.goto(local.pageUrl);
      await page.waitForSelector('[data-testid="status"][data-state="open"]');
      const li = answerOf(await ask('hi'));
      await li.locator('.usage').waitFor();
      expect(await li.locator('.answer').textContent()).toBe('Hello from llama');
      expect(await li.locator('.usage').textContent()).toMatch(/^llama3\.2 · \d+ tokens in · \d+ out \(estimated\) · .* · stop: end_turn$/);
      expect(server.requests[0]!.body.model).toBe('llama3.2');
    } finally {
      await server.stop();
    }
  });

  it('follows the system’s dark preference', async () => {
    const background = async (scheme: 'light' | 'dark'): Promise<string> => {
      await page.emulateMedia({ colorScheme: scheme });
      return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    };
    const light = await background('light');
    const dark = await background('dark');
    expect(dark).not.toBe(light);
    expect(dark).toBe('rgb(20, 23, 28)');
  });
});
