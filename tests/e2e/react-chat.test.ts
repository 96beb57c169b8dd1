/// <reference lib="dom" />
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { png } from '../helpers/attachments';
import { describeBrowser, launchChromium } from '../helpers/browser';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';

/**
 * examples/react-chat — React, the AI SDK's useChat and GatewayChatTransport — in headless
 * Chromium against the emulator, which serves the built app at /react/.
 */
describeBrowser('the React example (useChat over the gateway) in headless Chromium', () => {
  let browser: Browser;
  let local: LocalGateway;
  let page: Page;

  beforeAll(async () => {
    execFileSync(process.execPath, [resolve('node_modules/vite/bin/vite.js'), 'build', 'examples/react-chat', '--logLevel', 'error'], { stdio: 'pipe' });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '25', MOCK_ANSWER_TOKENS: '60', STREAM_FLUSH_INTERVAL_MS: '30', RESUME_GRACE_SECONDS: '30' });
    page = await browser.newPage();
    await page.goto(`${local.pageUrl}react/`);
    await page.getByTestId('prompt').waitFor();
  });
  afterEach(async () => {
    await page.close();
    await local.stop();
  });

  // The assistant's text as rendered (Markdown: a paragraph drops the answer's trailing space).
  const assistantText = () => page.locator('[data-role="assistant"] .text').allTextContents().then((all) => all.join('').trim());
  const answer = (prompt: string) => mockAnswerTokens(prompt, 60).join('').trim();
  async function say(text: string): Promise<void> {
    await page.getByTestId('prompt').fill(text);
    await page.getByTestId('send').click();
  }
  const ready = () => page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === 'ready', undefined, { timeout: 15_000 });

  it('streams an answer into the message as it arrives', async () => {
    await say('hello react');
    await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] .text')?.textContent ?? '').length > 10);
    expect(await page.getByTestId('status').textContent()).toBe('streaming');
    await ready();
    expect(await assistantText()).toBe(answer('hello react'));
  });

  it('renders Markdown as it streams: headings, lists, a table, code — and no raw HTML', async () => {
    await page.goto(`${local.pageUrl}react/?model=mock.markdown-v1`);
    await say('markdown please <img src=x onerror="window.__pwned=1">');
    await ready();
    const reply = page.locator('[data-role="assistant"] .markdown');
    // The HTML in the question stays text (the mock drops Markdown's own marks from the heading).
    expect(await reply.locator('h2').textContent()).toBe('About "markdown please <img src=x onerror="window.pwned=1">"');
    expect(await reply.locator('ul > li').count()).toBe(3);
    expect(await reply.locator('table tr').count()).toBe(4);
    expect(await reply.locator('pre code').count()).toBe(1);
    expect(await page.locator('[data-role="assistant"] img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('Stop ends the answer where it is', async () => {
    await say('stop soon');
    await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] .text')?.textContent ?? '').length > 10);
    await page.getByTestId('stop').click();
    await ready();
    const shown = await assistantText();
    expect(answer('stop soon').startsWith(shown)).toBe(true);
    expect(shown.length).toBeLessThan(answer('stop soon').length);
  });

  it('runs a client-side tool: onToolCall answers, and the next step goes by itself', async () => {
    await say('use get_time');
    await page.locator('[data-testid="tool"][data-state="output-available"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => (document.querySelector('[data-role="assistant"]')?.textContent ?? '').includes('From the tools: get_time returned'), undefined, { timeout: 15_000 });
    expect(await page.getByTestId('tool').textContent()).toMatch(/^get_time\(\{"zone":"UTC"\}\) → \d{2}:\d{2}:\d{2}$/);
  });

  it('sends an image as a file part', async () => {
    const file = join(tmpdir(), 'react-dot.png');
    writeFileSync(file, png());
    await page.getByTestId('file').setInputFiles(file);
    await say('what is this?');
    await ready();
    expect(await page.locator('[data-role="user"] img').count()).toBe(1);
    expect(await assistantText()).toBe(`I received an image (image/png, ${png().length} bytes).`);
  });

  it('reloading mid-answer picks the same answer up (resume: true) and shows it whole, once', async () => {
    await say('a reload in the middle');
    await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] .text')?.textContent ?? '').length > 20);
    await page.reload();
    // After the reload the page is idle at first; then useChat reconnects and the answer comes back whole.
    const whole = answer('a reload in the middle');
    await page.waitForFunction((text) => document.querySelector('[data-role="assistant"] .text')?.textContent?.trim() === text, whole, { timeout: 15_000 });
    await ready();
    expect(await page.locator('[data-role="assistant"]').count()).toBe(1);
    expect(await assistantText()).toBe(whole);
    // Nothing is left to resume once it ended.
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('assistant-ui on the same transport (useChatRuntime): streams an answer into its thread', async () => {
    const ui = await browser.newPage();
    try {
      await ui.goto(`${local.pageUrl}react/assistant-ui.html`);
      await ui.getByTestId('prompt').fill('hello assistant-ui');
      await ui.getByTestId('send').click();
      const whole = mockAnswerTokens('hello assistant-ui', 60).join('');
      await ui.waitForFunction((text) => document.querySelector('[data-role="assistant"]')?.textContent === text, whole, { timeout: 15_000 });
      expect(await ui.locator('[data-role="user"]').textContent()).toBe('hello assistant-ui');
    } finally {
      await ui.close();
    }
  });

  it('a connection cut mid-answer is invisible: no gap, no duplicate', async () => {
    await say('cut me');
    await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] .text')?.textContent ?? '').length > 20);
    const [connectionId] = local.connectionIds();
    await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
    await until(() => local.connectionIds().some((id) => id !== connectionId), 'the page to reconnect', 15_000);
    await ready();
    expect(await assistantText()).toBe(answer('cut me'));
  });
});
