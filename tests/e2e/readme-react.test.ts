/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { blocksOf } from '../../src/models/content';
import { describeBrowser, HoldingModel, launchChromium } from '../helpers/browser';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';
import { bundleReactSnippet, readmeBlock, serveApp, type ReadmeApp } from './readme-app';

/**
 * client/README.md's `useChat` snippets as an app runs them: each block bundled as it is written
 * (only its gateway URL swapped for the emulator's), rendered by React in headless Chromium, its
 * token fetched from `/jwt` as the snippet does, against the emulator with auth on.
 */
describeBrowser('the README’s useChat snippets in headless Chromium', () => {
  let browser: Browser;
  let local: LocalGateway;
  let model: HoldingModel;
  let page: Page;
  let app: ReadmeApp | undefined;
  const jwt = () => hs256(claims({ sub: 'readme-user' }));

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => {
    model = new HoldingModel({ tokenDelayMs: 5, answerTokens: 30 });
    local = await startLocal({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, STREAM_FLUSH_INTERVAL_MS: '20' }, { deps: { model } });
    page = await browser.newPage();
  });
  afterEach(async () => {
    model.release();
    await page.close();
    await app?.stop();
    app = undefined;
    await local.stop();
  });

  /** Serves the README's block `file` and opens it. */
  async function open(file: string): Promise<void> {
    app = await serveApp(await bundleReactSnippet(readmeBlock(file), local.url), jwt);
    await page.goto(app.url);
  }

  /** What the snippet shows: its paragraphs' text, one a line. */
  const shown = () => page.locator('main p').allTextContents().then((all) => all.join('\n'));
  async function showing(text: string): Promise<void> {
    try {
      await page.waitForFunction((want) => Array.from(document.querySelectorAll('main p'), (p) => p.textContent).join('\n') === want, text, { timeout: 15_000 });
    } catch {
      throw new Error(`the page never showed ${JSON.stringify(text)}; it shows ${JSON.stringify(await shown())}`);
    }
  }

  it('readme-usechat.tsx: reloaded mid-answer, the page picks the same answer up and shows it whole, once', async () => {
    await open('readme-usechat.tsx');
    model.holdAfter(10);
    await page.getByRole('button', { name: 'Send' }).click();
    await until(() => model.holding, 'the answer to reach the hold', 15_000);
    const head = mockAnswerTokens('Hello!', 30).slice(0, 10).join('');
    await showing(`user: Hello!\nassistant: ${head}`);
    await page.reload();
    // The new page has no messages of its own (the snippet keeps none): useChat's resume brings the answer back.
    await showing(`assistant: ${head}`);
    model.release();
    await showing(`assistant: ${mockAnswerTokens('Hello!', 30).join('')}`);
    // The answer that went on, not a new one; and nothing is left to resume once it ended.
    expect(model.requests).toHaveLength(1);
    await page.waitForFunction(() => sessionStorage.length === 0);
    expect(await shown()).toBe(`assistant: ${mockAnswerTokens('Hello!', 30).join('')}`);
  }, 60_000);

  it('readme-usechat-tools.tsx: the model calls a tool the page runs; addToolOutput answers it and sendAutomaticallyWhen sends the next step by itself', async () => {
    await open('readme-usechat-tools.tsx');
    await page.getByRole('button', { name: 'Ask' }).click();
    await page.waitForFunction(() => /From the tools: get_time returned "[^"]+"\./.test(document.querySelector('main')?.textContent ?? ''), undefined, { timeout: 15_000 });
    // Two model calls: the question, then the same conversation with the call and the page's result.
    expect(model.requests).toHaveLength(2);
    const second = model.requests[1]!.messages;
    expect(second.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    const [result] = blocksOf(second[2]!.content);
    expect(result).toMatchObject({ type: 'tool_result', content: expect.stringMatching(/^\d{2}:\d{2}:\d{2}$/) as string });
    expect(blocksOf(second[1]!.content).find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_time', input: { zone: 'Europe/Paris' } });
    expect(await page.locator('main').textContent()).toContain(`get_time returned "${(result as { content: string }).content}"`);
  }, 60_000);
});
