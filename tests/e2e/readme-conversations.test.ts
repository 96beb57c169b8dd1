/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { textOf } from '../../src/models/content';
import { describeBrowser, HoldingModel, launchChromium } from '../helpers/browser';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';
import { bundleReactSnippet, readmeBlock, serveApp, type ReadmeApp } from './readme-app';

/**
 * client/README.md's conversation snippets — useChat with `conversations: true` and
 * `loadMessages`, and assistant-ui's useChatRuntime with the transport pinned to the conversation —
 * bundled as written (only the gateway URL swapped), in headless Chromium against the emulator
 * with auth on: the conversation is kept on the gateway, so a reload shows it whole, a follow-up
 * is answered with its history, and an answer running at the reload comes back — with nothing
 * kept in the page.
 */
describeBrowser('the README’s conversation snippets (kept on the gateway) in headless Chromium', () => {
  let browser: Browser;
  let local: LocalGateway;
  let model: HoldingModel;
  let page: Page;
  let app: ReadmeApp | undefined;
  const jwt = () => hs256(claims({ sub: 'readme-conversations' }));
  const answer = (prompt: string) => mockAnswerTokens(prompt, 30).join('');

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => {
    model = new HoldingModel({ tokenDelayMs: 5, answerTokens: 30 });
    local = await startLocal({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, STREAM_FLUSH_INTERVAL_MS: '20', RESUME_GRACE_SECONDS: '30' }, { deps: { model } });
    page = await browser.newPage();
  });
  afterEach(async () => {
    model.release();
    await page.close();
    await app?.stop();
    app = undefined;
    await local.stop();
  });

  /** Serves the README's block `file`, opens it, and waits until it named its conversation in the URL. */
  async function open(file: string): Promise<string> {
    app = await serveApp(await bundleReactSnippet(readmeBlock(file), local.url), jwt);
    await page.goto(app.url);
    await page.waitForURL(/\?c=c_/, { timeout: 15_000 });
    await page.getByRole('button', { name: 'Send' }).waitFor();
    return new URL(page.url()).searchParams.get('c')!;
  }

  async function say(text: string): Promise<void> {
    await page.getByLabel('Message').fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
  }

  describe('readme-usechat-conversations.tsx (useChat)', () => {
    const shown = () => page.locator('main p').allTextContents().then((all) => all.join('\n'));
    async function showing(text: string): Promise<void> {
      try {
        await page.waitForFunction((want) => Array.from(document.querySelectorAll('main p'), (p) => p.textContent).join('\n') === want, text, { timeout: 15_000 });
      } catch {
        throw new Error(`the page never showed ${JSON.stringify(text)}; it shows ${JSON.stringify(await shown())}`);
      }
    }

    it('survives a reload: the whole conversation is shown again, and a follow-up is answered with its history', async () => {
      await open('readme-usechat-conversations.tsx');
      await say('first question');
      await showing(`user: first question\nassistant: ${answer('first question')}`);
      await say('second question');
      const two = `user: first question\nassistant: ${answer('first question')}\nuser: second question\nassistant: ${answer('second question')}`;
      await showing(two);
      // Each send carried its message alone: the model got the history from the gateway.
      expect(model.requests[1]!.messages.map((m) => textOf(m.content))).toEqual(['first question', answer('first question'), 'second question']);

      await page.reload();
      await showing(two);
      await say('third question');
      await showing(`${two}\nuser: third question\nassistant: ${answer('third question')}`);
      expect(model.requests).toHaveLength(3);
      expect(model.requests[2]!.messages.map((m) => textOf(m.content))).toEqual(['first question', answer('first question'), 'second question', answer('second question'), 'third question']);

      // Regenerate: the last answer replaced (the model reads the history without it), shown once.
      await page.getByRole('button', { name: 'Regenerate' }).click();
      await until(() => model.requests.length === 4, 'the regeneration to reach the model', 15_000);
      expect(model.requests[3]!.messages.map((m) => textOf(m.content))).toEqual(model.requests[2]!.messages.map((m) => textOf(m.content)));
      await page.locator('button:not([disabled])', { hasText: 'Regenerate' }).waitFor({ timeout: 15_000 });
      await showing(`${two}\nuser: third question\nassistant: ${answer('third question')}`);
      await page.reload();
      await showing(`${two}\nuser: third question\nassistant: ${answer('third question')}`);
      // Nothing of it was kept in the page.
      expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);
    }, 60_000);

    it('reloaded mid-answer, reconnectToStream finds the running answer on the gateway and shows it whole, once, after the loaded question', async () => {
      await open('readme-usechat-conversations.tsx');
      await say('before the reload');
      await showing(`user: before the reload\nassistant: ${answer('before the reload')}`);
      model.holdAfter(10);
      await say('a reload in the middle');
      await until(() => model.holding, 'the answer to reach the hold', 15_000);
      const head = mockAnswerTokens('a reload in the middle', 30).slice(0, 10).join('');
      const before = `user: before the reload\nassistant: ${answer('before the reload')}\nuser: a reload in the middle`;
      await showing(`${before}\nassistant: ${head}`);
      await page.reload();
      // The loaded history (the question was kept before the model was called), then the resumed answer.
      await showing(`${before}\nassistant: ${head}`);
      model.release();
      await showing(`${before}\nassistant: ${answer('a reload in the middle')}`);
      // The answer that went on, not a new one — and nothing in sessionStorage to find it by.
      expect(model.requests).toHaveLength(2);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      // Once it ended it is a message of the conversation like the others.
      await page.reload();
      await showing(`${before}\nassistant: ${answer('a reload in the middle')}`);
    }, 60_000);
  });

  describe('readme-assistant-ui-conversations.tsx (assistant-ui, a new thread id on every load)', () => {
    const texts = (role: 'user' | 'assistant') => page.locator(`[data-role="${role}"]`).allTextContents();

    it('reloaded mid-answer, the new thread shows the conversation and resumes the running answer through the transport pinned to it', async () => {
      await open('readme-assistant-ui-conversations.tsx');
      await say('hello assistant-ui');
      await page.waitForFunction((want) => document.querySelector('[data-role="assistant"]')?.textContent === want, answer('hello assistant-ui'), { timeout: 15_000 });
      model.holdAfter(10);
      await say('keep going');
      await until(() => model.holding, 'the answer to reach the hold', 15_000);
      const head = mockAnswerTokens('keep going', 30).slice(0, 10).join('');
      await page.waitForFunction((want) => (document.querySelectorAll('[data-role="assistant"]')[1]?.textContent ?? '').startsWith(want), head, { timeout: 15_000 });

      await page.reload();
      // The history from loadMessages, then the running answer, resumed by assistant-ui (its storage asked the gateway).
      await page.waitForFunction((want) => (document.querySelectorAll('[data-role="assistant"]')[1]?.textContent ?? '').startsWith(want), head, { timeout: 15_000 });
      expect(await texts('user')).toEqual(['hello assistant-ui', 'keep going']);
      model.release();
      await page.waitForFunction((want) => document.querySelectorAll('[data-role="assistant"]')[1]?.textContent === want, answer('keep going'), { timeout: 15_000 });
      expect(await texts('assistant')).toEqual([answer('hello assistant-ui'), answer('keep going')]);
      expect(model.requests).toHaveLength(2);

      // A follow-up in the reloaded thread: only the new message goes, the gateway has the rest.
      await say('and then?');
      await page.waitForFunction((want) => document.querySelectorAll('[data-role="assistant"]')[2]?.textContent === want, answer('and then?'), { timeout: 15_000 });
      expect(model.requests[2]!.messages.map((m) => textOf(m.content))).toEqual(['hello assistant-ui', answer('hello assistant-ui'), 'keep going', answer('keep going'), 'and then?']);
    }, 60_000);
  });
});
