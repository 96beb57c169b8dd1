/// <reference lib="dom" />
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel } from '../../src/llm/mock';
import { CHROMIUM_MISSING, chromiumPath } from '../../scripts/chromium-path';
import { describeWith } from './required-tool';

const CHROMIUM = chromiumPath();

/** `describe` for suites that need Chromium: skipped without it, failed without it under CI. */
export const describeBrowser = describeWith(CHROMIUM === undefined ? `${CHROMIUM_MISSING}; .ci/run installs it` : undefined);

/** A name no test resolves: `*.invalid` (reserved, RFC 2606) fails in Chromium's own resolver, without asking DNS. */
export const UNRESOLVABLE_HOST = 'gateway.invalid';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP *.invalid ~NOTFOUND',
    ],
  });
}

/**
 * The mock model (its answers as configured), which a test can hold after some deltas until it
 * says so — so "mid-answer" is a state the test sets up, not a moment it hopes to catch. It
 * records every request it was given and whether its signal was aborted.
 */
export class HoldingModel implements ChatModel {
  readonly requests: ChatModelRequest[] = [];
  readonly aborted: ChatModelRequest[] = [];
  /** Some answer is waiting at the hold. */
  holding = false;
  private limit = Infinity;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  private readonly inner: MockChatModel;

  constructor({ tokenDelayMs = 25, answerTokens = 80 } = {}) {
    this.inner = new MockChatModel({ tokenDelayMs, answerTokens });
  }

  /** Answers stop after `deltas` deltas until `release()`. */
  holdAfter(deltas: number): void {
    this.limit = deltas;
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.limit = Infinity;
    this.open();
  }

  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    this.requests.push(request);
    let deltas = 0;
    const aborted = new Promise<never>((_resolve, reject) =>
      signal.addEventListener(
        'abort',
        () => {
          this.aborted.push(request);
          reject(signal.reason as Error);
        },
        { once: true },
      ),
    );
    aborted.catch(() => undefined);
    for await (const event of this.inner.stream(request, signal)) {
      if (event.type === 'delta' && deltas >= this.limit) {
        this.holding = true;
        await Promise.race([this.gate, aborted]).finally(() => (this.holding = false));
      }
      if (event.type === 'delta') deltas += 1;
      yield event;
    }
  }
}

/** Waits until nothing under `selector` has changed for `quietMs` (the last frames rendered). */
export async function settled(page: Page, selector: string, quietMs = 250): Promise<void> {
  await page.evaluate(
    ([sel, quiet]) =>
      new Promise<void>((resolve) => {
        const target = document.querySelector(sel)!;
        let timer = setTimeout(done, quiet);
        const observer = new MutationObserver(() => {
          clearTimeout(timer);
          timer = setTimeout(done, quiet);
        });
        function done(): void {
          observer.disconnect();
          resolve();
        }
        observer.observe(target, { childList: true, subtree: true, characterData: true });
      }),
    [selector, quietMs] as const,
  );
}

/** Opens the page the emulator serves and waits until it has connected by itself. */
export async function openChat(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('[data-testid="status"][data-state="open"]');
}

/** Types a prompt and sends it with Enter; returns the request id of the answer it starts. */
export async function ask(page: Page, prompt: string): Promise<string> {
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('prompt').press('Enter');
  const answer = page.locator('[data-testid="messages"] li[data-request-id]').last();
  await answer.waitFor();
  return (await answer.getAttribute('data-request-id')) as string;
}

/**
 * WCAG contrast ratio of an element's rendered text colour (or `property`) against the first
 * opaque background behind it, from the computed styles.
 */
export function contrast(page: Page, selector: string, property: 'color' | 'borderTopColor' | 'backgroundColor' = 'color'): Promise<number> {
  return page.evaluate(
    ([sel, prop]) => {
      const rgb = (value: string): number[] => (value.match(/[\d.]+/g) ?? []).map(Number);
      const element = document.querySelector(sel);
      if (element === null) throw new Error(`no element ${sel}`);
      const foreground = rgb(getComputedStyle(element)[prop as 'color']);
      // Behind a background colour is what the element sits on; behind text, its own background.
      let from: Element | null = prop === 'color' ? element : element.parentElement;
      let background = [255, 255, 255];
      for (; from !== null; from = from.parentElement) {
        const value = rgb(getComputedStyle(from).backgroundColor);
        if (value.length === 3 || (value[3] ?? 0) > 0) {
          background = value.slice(0, 3);
          break;
        }
      }
      const luminance = (c: number[]): number => {
        const [r, g, b] = c.slice(0, 3).map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        }) as [number, number, number];
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const [a, b] = [luminance(foreground), luminance(background)].sort((x, y) => y - x) as [number, number];
      return (a + 0.05) / (b + 0.05);
    },
    [selector, property] as const,
  );
}
