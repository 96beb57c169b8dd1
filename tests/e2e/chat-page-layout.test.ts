/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import type { LocalGateway } from '../../src/local/emulator';
import { ask, contrast, describeBrowser, HoldingModel, launchChromium, openChat, settled } from '../helpers/browser';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';

const ENV = { MOCK_TOKEN_DELAY_MS: '5', STREAM_FLUSH_INTERVAL_MS: '20' };
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** The page as people hold it — a phone and a laptop, light and dark: layout, scrolling, contrast. */
describeBrowser('test-client.html on a phone and a laptop, light and dark', () => {
  let browser: Browser;
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
    model = new HoldingModel({ tokenDelayMs: 5 });
    local = await startLocal(ENV, { deps: { model } });
  });
  afterEach(async () => {
    model.release();
    await page?.close();
    await local.stop();
  });

  async function open(viewport: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light'): Promise<void> {
    page = await browser.newPage({ viewport, colorScheme });
    await openChat(page, local.pageUrl);
  }

  /** The Markdown mock, chosen in Settings as a user would (on a phone, the panel opens over the page). */
  async function chooseMarkdownModel(): Promise<void> {
    const toggle = page.getByTestId('settings-toggle');
    if (await toggle.isVisible()) await toggle.click();
    await page.getByTestId('model').fill('mock.markdown-v1');
    if (await toggle.isVisible()) await page.locator('#settings-close').click();
  }

  const inView = (box: { x: number; y: number; width: number; height: number } | null, viewport: { width: number; height: number }): boolean =>
    box !== null && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;

  for (const [name, viewport] of [['phone 390×844', PHONE], ['laptop 1280×800', DESKTOP]] as const) {
    it(`${name}: prompt focused at load, status pinned, settings where they belong, no sideways scroll with a long code block, Stop in Send's place, the view follows the answer`, async () => {
      await open(viewport);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
      const phone = viewport === PHONE;
      // Settings: beside the conversation on a laptop; behind a button on a phone, opening over it.
      expect(await page.getByTestId('settings').isVisible()).toBe(!phone);
      expect(await page.getByTestId('settings-toggle').isVisible()).toBe(phone);
      if (phone) {
        await page.getByTestId('settings-toggle').click();
        expect(await page.getByTestId('settings').isVisible()).toBe(true);
        await page.keyboard.press('Escape');
        expect(await page.getByTestId('settings').isVisible()).toBe(false);
      }
      await chooseMarkdownModel();
      const sendBox = await page.getByTestId('send').boundingBox();
      expect(inView(sendBox, viewport)).toBe(true);

      // One answer before, so the conversation is longer than the screen on both.
      const first = await ask(page, 'a first question');
      await page.locator(`li[data-request-id="${first}"] .usage`).waitFor();
      model.holdAfter(120); // inside the table, after the code block
      const id = await ask(page, 'a long code block, please');
      const answer = page.locator(`li[data-request-id="${id}"]`);
      await answer.locator('figure pre code').waitFor();
      await until(() => model.requests.length === 2, 'the model call');
      await page.waitForFunction((rid) => (document.querySelector(`li[data-request-id="${rid}"] .answer`)?.textContent ?? '').includes('Sent by'), id);
      // Held, and the last frames before the hold rendered: nothing moves while it is measured.
      await until(() => model.holding, 'the model to hold');
      await settled(page, `li[data-request-id="${id}"]`);

      // Nothing scrolls sideways: the page is as wide as the screen, every message inside it; the
      // code scrolls inside its own block.
      const widths = await page.evaluate(() => {
        const root = document.scrollingElement!;
        const pre = document.querySelector('.answer pre')!;
        const items = Array.from(document.querySelectorAll('#messages > li')).map((li) => li.getBoundingClientRect());
        return {
          page: root.scrollWidth - root.clientWidth,
          log: document.getElementById('log')!.scrollWidth - document.getElementById('log')!.clientWidth,
          outside: items.filter((r) => r.left < 0 || r.right > window.innerWidth).length,
          codeScrolls: pre.scrollWidth > pre.clientWidth,
        };
      });
      expect(widths).toEqual({ page: 0, log: 0, outside: 0, codeScrolls: true });
      // The Copy of the code block sits in its caption, never over the code.
      const copy = await answer.locator('figure figcaption button.copy').boundingBox();
      const code = await answer.locator('figure pre').boundingBox();
      expect(copy!.y + copy!.height).toBeLessThanOrEqual(code!.y + 0.5);

      // While it streams: Stop where Send was, on screen and the element a tap there hits.
      const stop = page.getByTestId('stop');
      expect(await page.getByTestId('send').isVisible()).toBe(false);
      const stopBox = await stop.boundingBox();
      expect(inView(stopBox, viewport)).toBe(true);
      expect(Math.abs(stopBox!.x + stopBox!.width - (sendBox!.x + sendBox!.width))).toBeLessThan(2);
      expect(await page.evaluate(([x, y]) => document.elementFromPoint(x!, y!)?.id, [stopBox!.x + stopBox!.width / 2, stopBox!.y + stopBox!.height / 2])).toBe('stop');
      // The status stays on screen however long the conversation is.
      expect(inView(await page.getByTestId('status').boundingBox(), viewport)).toBe(true);

      // The view follows the text for a reader at the bottom …
      const gap = () => page.evaluate(() => { const log = document.getElementById('log')!; return log.scrollHeight - log.scrollTop - log.clientHeight; });
      expect(await gap()).toBeLessThan(48);
      // … and leaves one who scrolled up where they are, offering the way back.
      const scrollable = await page.evaluate(() => { const log = document.getElementById('log')!; log.scrollTop = 0; return log.scrollHeight > log.clientHeight; });
      model.release();
      await answer.locator('.usage').waitFor();
      expect(scrollable).toBe(true);
      expect(await page.evaluate(() => document.getElementById('log')!.scrollTop)).toBe(0);
      await page.getByTestId('to-bottom').click();
      expect(await gap()).toBeLessThan(48);
      expect(await page.getByTestId('to-bottom').isVisible()).toBe(false);
      await stop.waitFor({ state: 'hidden' });
      expect(inView(await page.getByTestId('send').boundingBox(), viewport)).toBe(true);
      // The pictures in docs/: regenerate with `SCREENSHOT=1 npm test` (kept out of ordinary runs
      // so a test run leaves the tree clean).
      if (process.env.SCREENSHOT === '1') {
        await page.mouse.move(0, 0);
        const shots = phone ? [['light', 'docs/screenshot-phone.png']] : [['light', 'docs/screenshot.png'], ['dark', 'docs/screenshot-dark.png']];
        for (const [colorScheme, path] of shots as Array<['light' | 'dark', string]>) {
          await page.emulateMedia({ colorScheme });
          await page.screenshot({ path });
        }
      }
    });
  }

  for (const scheme of ['light', 'dark'] as const) {
    it(`${scheme}: the attach button is an inline SVG icon — no glyph a font may lack (its fullwidth plus, U+FF0B, was an empty box without a CJK font) — named "Attach files", stroked in the button’s colour at 3:1`, async () => {
      await open(DESKTOP, scheme);
      const attach = page.getByRole('button', { name: 'Attach files' });
      expect(await attach.count()).toBe(1);
      expect(await attach.evaluate((button) => button.textContent?.trim())).toBe('');
      const icon = attach.locator('svg');
      expect(await icon.count()).toBe(1);
      expect(await icon.getAttribute('aria-hidden')).toBe('true');
      const box = await icon.boundingBox();
      expect(box !== null && box.width >= 12 && box.height >= 12).toBe(true);
      const colours = await attach.evaluate((button) => ({ button: getComputedStyle(button).color, stroke: getComputedStyle(button.querySelector('svg path')!).stroke }));
      expect(colours.stroke).toBe(colours.button);
      expect(await contrast(page, '#attach svg')).toBeGreaterThanOrEqual(3);
    });
  }

  for (const scheme of ['light', 'dark'] as const) {
    it(`${scheme}: text, status, errors and controls meet WCAG AA contrast, measured on the rendered colours`, async () => {
      await open(DESKTOP, scheme);
      await chooseMarkdownModel();
      const id = await ask(page, 'contrast');
      await page.locator(`li[data-request-id="${id}"] .usage`).waitFor();
      await page.getByTestId('model').fill('no-such-model');
      const failed = await ask(page, 'an error');
      await page.locator(`li[data-request-id="${failed}"] .usage`).waitFor();
      await page.evaluate(() => {
        const notice = document.getElementById('notice')!;
        notice.hidden = false;
        notice.textContent = 'The gateway refused the connection.';
      });
      const ok = `li[data-request-id="${id}"]`;
      const bad = `li[data-request-id="${failed}"]`;
      const text: Record<string, string> = {
        'answer text': `${ok} .answer p`,
        'inline code': `${ok} .answer p code`,
        'table header': `${ok} .answer th`,
        'code caption': `${ok} figcaption`,
        'role label': `${ok} .role`,
        'usage line': `${ok} .usage`,
        'Copy answer': `${ok} .actions button.copy`,
        'your message': '#messages > li.user',
        'error text': `${bad} [data-testid="problem"]`,
        'error code': `${bad} .usage`,
        Retry: `${bad} [data-testid="retry"]`,
        notice: '#notice',
        Send: '#send',
        'New conversation': '#clear',
        'settings label': 'aside label',
        'settings hint': 'aside .hint',
        placeholder: '#prompt',
      };
      const low: string[] = [];
      for (const [what, selector] of Object.entries(text)) {
        const ratio = await contrast(page, selector);
        if (ratio < 4.5) low.push(`${what} ${ratio.toFixed(2)}`);
      }
      for (const [state, label] of [['open', 'connected'], ['closed', 'reconnecting…'], ['connecting', 'connecting…'], ['error', 'refused'], ['idle', 'disconnected']] as const) {
        await page.evaluate(([s, l]) => {
          const status = document.getElementById('status')!;
          status.dataset.state = s;
          status.textContent = l;
        }, [state, label] as [string, string]);
        const ratio = await contrast(page, '#status');
        if (ratio < 4.5) low.push(`status ${state} ${ratio.toFixed(2)}`);
      }
      // Controls: a filled button against what it sits on, an outlined one's and a field's edge: 3:1.
      for (const [what, selector, property] of [
        ['Send button', '#send', 'backgroundColor'],
        ['New conversation border', '#clear', 'borderTopColor'],
        ['prompt field border', '#prompt', 'borderTopColor'],
        ['model field border', '#model', 'borderTopColor'],
      ] as const) {
        const ratio = await contrast(page, selector, property);
        if (ratio < 3) low.push(`${what} ${ratio.toFixed(2)}`);
      }
      expect(low).toEqual([]);
    });
  }
});
