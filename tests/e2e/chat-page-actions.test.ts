/// <reference lib="dom" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { textOf } from '../../src/models/content';
import { pdf, png } from '../helpers/attachments';
import { ask, describeBrowser, HoldingModel, launchChromium, openChat } from '../helpers/browser';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';

const ENV = { MOCK_TOKEN_DELAY_MS: '5', MOCK_ANSWER_TOKENS: '40', STREAM_FLUSH_INTERVAL_MS: '20' };
const contents = (model: HoldingModel, index: number) => model.requests[index]!.messages.map((m) => `${m.role}:${textOf(m.content)}`);

/** What a user does with the page beside asking: start over, stop from the keyboard, regenerate, copy — and a refused token. */
describeBrowser('test-client.html: new conversation, Escape, Regenerate, Copy, a refused token', () => {
  let browser: Browser;
  let context: BrowserContext;
  let local: LocalGateway;
  let model: HoldingModel;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => {
    model = new HoldingModel({ tokenDelayMs: 5, answerTokens: 40 });
    context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  });
  afterEach(async () => {
    model.release();
    await context.close();
    await local.stop();
  });

  async function start(env: Record<string, string> = {}): Promise<void> {
    local = await startLocal({ ...ENV, ...env }, { deps: { model } });
    page = await context.newPage();
  }

  const textOf = (id: string) => page.locator(`li[data-request-id="${id}"] .answer`).textContent();

  it('New conversation during an answer cancels it on the gateway, clears the page, and the next question goes alone', async () => {
    await start();
    await openChat(page, local.pageUrl);
    model.holdAfter(10);
    const old = await ask(page, 'OLD TOPIC');
    await page.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').length > 10, old);
    await page.getByTestId('new-conversation').click();
    // At once: an empty page, Send back, the prompt focused; the gateway stops the old answer.
    expect(await page.locator('[data-testid="messages"] > li').count()).toBe(0);
    expect(await page.getByTestId('send').isVisible()).toBe(true);
    expect(await page.getByTestId('stop').isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    await until(() => model.aborted.length === 1, 'the old answer to be cancelled on the gateway');
    model.release();
    const fresh = await ask(page, 'fresh start');
    await page.locator(`li[data-request-id="${fresh}"] .usage`).waitFor();
    expect(contents(model, 1)).toEqual(['user:fresh start']);
    // Nothing of the old answer reached the new page.
    expect(await page.locator('[data-testid="messages"] > li').count()).toBe(2);
    expect(await page.locator(`li[data-request-id="${old}"]`).count()).toBe(0);
  });

  it('Escape stops the running answer, as Stop does', async () => {
    await start();
    await openChat(page, local.pageUrl);
    model.holdAfter(8);
    const id = await ask(page, 'stop me');
    await page.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').length > 5, id);
    await page.keyboard.press('Escape');
    await page.locator(`li[data-request-id="${id}"] .usage`).waitFor();
    expect(await page.locator(`li[data-request-id="${id}"] .usage`).textContent()).toBe('stopped');
    await until(() => model.aborted.length === 1, 'the gateway to stop the model');
  });

  it('Regenerate replaces the last answer and sends its question once, with the turns before it', async () => {
    await start();
    await openChat(page, local.pageUrl);
    const first = await ask(page, 'one');
    await page.locator(`li[data-request-id="${first}"] .usage`).waitFor();
    const second = await ask(page, 'two');
    await page.locator(`li[data-request-id="${second}"] .usage`).waitFor();
    // Only the last answer offers it.
    expect(await page.locator(`li[data-request-id="${first}"] [data-testid="regenerate"]`).isVisible()).toBe(false);
    await page.locator(`li[data-request-id="${second}"] [data-testid="regenerate"]`).click();
    const again = page.locator('li[data-request-id]').last();
    await again.locator('.usage').waitFor();
    expect(await again.getAttribute('data-request-id')).not.toBe(second);
    expect(contents(model, 2)).toEqual(['user:one', `assistant:${mockAnswerTokens('one', 40).join('')}`, 'user:two']);
    expect(await page.locator('[data-testid="messages"] > li').count()).toBe(4);
    // And the conversation goes on from the regenerated answer.
    const third = await ask(page, 'three');
    await page.locator(`li[data-request-id="${third}"] .usage`).waitFor();
    expect(contents(model, 3)).toHaveLength(5);
    expect(contents(model, 3).at(-2)).toBe(`assistant:${mockAnswerTokens('two', 40).join('')}`);
  });

  it('Copy answer puts the whole answer on the clipboard', async () => {
    await start();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: local.pageUrl });
    await openChat(page, local.pageUrl);
    const id = await ask(page, 'copy me');
    await page.locator(`li[data-request-id="${id}"] .usage`).waitFor();
    await page.locator(`li[data-request-id="${id}"] .actions button.copy`).click();
    await page.locator(`li[data-request-id="${id}"] .actions button.copy`, { hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(mockAnswerTokens('copy me', 40).join(''));
    expect(await textOf(id)).toBe(mockAnswerTokens('copy me', 40).join(''));
  });

  it('demo tools: the model calls both, the page runs them and shows each call (collapsed) with input and result, and the loop ends in text', async () => {
    await start();
    await openChat(page, local.pageUrl);
    // Off by default: without it, naming a tool calls nothing.
    expect(await page.getByTestId('tools').isChecked()).toBe(false);
    await page.getByTestId('tools').check();
    const id = await ask(page, 'use get_time and calculator');
    const li = page.locator(`li[data-request-id="${id}"]`);
    await li.locator('.usage').waitFor();
    const calls = li.getByTestId('tool-call');
    expect(await calls.count()).toBe(2);
    expect(await calls.nth(0).evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    await calls.nth(1).locator('summary').click();
    expect(await calls.nth(1).evaluate((el) => (el as HTMLDetailsElement).open)).toBe(true);
    expect(await calls.nth(1).locator('summary').textContent()).toBe('Tool calculator · done');
    expect(JSON.parse((await calls.nth(1).locator('pre[data-label="input"]').textContent()) ?? '')).toEqual({ expression: '6*7' });
    expect(await calls.nth(1).locator('pre[data-label="result"]').textContent()).toBe('42');
    const time = (await calls.nth(0).locator('pre[data-label="result"]').textContent()) ?? '';
    expect(time).toMatch(/\d{1,2}:\d{2}:\d{2}/);
    expect(await li.locator('.answer').textContent()).toContain(`From the tools: get_time returned "${time}"; calculator returned "42".`);
    // The loop ran by itself: two model calls, the second with the calls and their results.
    expect(model.requests).toHaveLength(2);
    const second = model.requests[1]!.messages;
    expect(second.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second[2]!.content).toEqual([
      { type: 'tool_result', toolUseId: expect.any(String) as string, content: time },
      { type: 'tool_result', toolUseId: expect.any(String) as string, content: '42' },
    ]);
    // The conversation goes on with the calls in its history.
    const next = await ask(page, 'thanks');
    await page.locator(`li[data-request-id="${next}"] .usage`).waitFor();
    expect(model.requests[2]!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
  });

  it('attachments: an image dropped and a PDF pasted upload with progress, can be removed, show in the bubble, and the model gets them', async () => {
    await start();
    await openChat(page, local.pageUrl);
    const drop = (selector: string, event: 'drop' | 'paste', name: string, type: string, base64: string) =>
      page.evaluate(
        ([sel, kind, fileName, fileType, data]) => {
          const bytes = Uint8Array.from(atob(data!), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], fileName!, { type: fileType! }));
          const target = document.querySelector(sel!)!;
          target.dispatchEvent(kind === 'drop' ? new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }) : new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
        },
        [selector, event, name, type, base64],
      );
    await drop('#log', 'drop', 'dot.png', 'image/png', png().toString('base64'));
    await drop('#prompt', 'paste', 'spec.pdf', 'application/pdf', pdf().toString('base64'));
    await drop('#prompt', 'paste', 'extra.txt', 'text/plain', Buffer.from('remove me').toString('base64'));
    const tray = page.getByTestId('attachment');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="attachment"][data-state="ready"]').length === 3);
    expect(await tray.nth(0).locator('img').count()).toBe(1);
    // Removable before sending.
    await tray.nth(2).getByRole('button', { name: 'Remove extra.txt' }).click();
    expect(await tray.count()).toBe(2);
    const id = await ask(page, 'what did I send?');
    const answer = page.locator(`li[data-request-id="${id}"]`);
    await answer.locator('.usage').waitFor();
    expect(await answer.locator('.answer').textContent()).toBe(`I received an image (image/png, ${png().length} bytes), a document "spec.pdf" (application/pdf, ${pdf().length} bytes). `);
    const bubble = page.locator('#messages > li.user').last();
    expect(await bubble.getByTestId('sent-attachments').locator('img').count()).toBe(1);
    expect(await bubble.getByTestId('sent-attachments').textContent()).toContain('spec.pdf');
    expect(await page.getByTestId('tray').isVisible()).toBe(false);
    // They stay in the history: the next turn sends (and the worker checks) them again.
    const next = await ask(page, 'and now?');
    await page.locator(`li[data-request-id="${next}"] .usage`).waitFor();
    const sent = model.requests.at(-1)!.messages;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect((sent[0]!.content as ReadonlyArray<{ type: string }>).map((b) => b.type)).toEqual(['text', 'image', 'document']);
  });

  it('a refused token is named within seconds, with what to do; a good token then connects', async () => {
    await start({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    await page.goto(local.pageUrl);
    const notice = page.getByTestId('notice');
    await notice.waitFor({ timeout: 15_000 });
    expect(await notice.textContent()).toMatch(/refused the connection .*check the token.*npm run token/);
    expect(await page.getByTestId('status').getAttribute('data-state')).toBe('error');
    expect(await page.getByTestId('status').textContent()).toBe('refused');
    await notice.getByRole('button', { name: 'Open settings' }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.getByTestId('token').fill(await hs256(claims({ sub: 'page-user' })));
    await page.getByTestId('connect').click();
    await page.waitForSelector('[data-testid="status"][data-state="open"]');
    expect(await notice.isVisible()).toBe(false);
    const id = await ask(page, 'with a token');
    await page.locator(`li[data-request-id="${id}"] .usage`).waitFor();
    expect(await textOf(id)).toBe(mockAnswerTokens('with a token', 40).join(''));
  });
});
