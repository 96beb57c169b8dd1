import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel } from '../../src/llm/mock';

/**
 * The mock model, except for the answer `crashNext` arms: it streams three deltas, then its
 * "process dies" — it yields nothing more and ignores its abort, like a Lambda sandbox that
 * crashed or was frozen at its timeout — until `release` (test cleanup) ends it. `holdNext`
 * makes the next answer wait, before its first delta, until `release`.
 */
export class CrashingModel implements ChatModel {
  held = 0;
  private next: 'crash' | 'hold' | undefined;
  private released = false;
  private readonly sleepers: Array<() => void> = [];
  private readonly mock: MockChatModel;

  constructor(tokenDelayMs = 2) {
    this.mock = new MockChatModel({ tokenDelayMs, answerTokens: 12 });
  }

  crashNext(): void {
    this.next = 'crash';
  }

  /** Forgets an armed crash or hold: the next answer is the mock's. */
  disarm(): void {
    this.next = undefined;
  }

  /** Whether the next answer will crash. */
  get armed(): boolean {
    return this.next === 'crash';
  }

  holdNext(): void {
    this.next = 'hold';
  }

  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    const fate = this.next;
    this.next = undefined;
    if (fate === 'hold') {
      this.held += 1;
      await this.asleep();
    }
    if (fate !== 'crash') {
      yield* this.mock.stream(request, signal);
      return;
    }
    for (const text of ['one ', 'two ', 'three ']) yield { type: 'delta', text };
    await this.asleep();
    throw new Error('the sandbox was gone');
  }

  release(): void {
    this.released = true;
    this.sleepers.splice(0).forEach((wake) => wake());
  }

  private asleep(): Promise<void> {
    return this.released ? Promise.resolve() : new Promise<void>((resolve) => this.sleepers.push(resolve));
  }
}
