import { GatewayError } from './errors.js';

/**
 * The callers waiting for the connection to open, each for at most `timeoutMs`: resolved together
 * when it opens, rejected together when the client gives up or is closed. One that times out is
 * told why when that is known (`reason()`: an app shows "offline" for it, not a timeout).
 */
export class OpenWaiters {
  private waiting: Array<{ resolve: () => void; reject: (error: GatewayError) => void }> = [];

  constructor(
    private readonly timeoutMs: number,
    private readonly reason: () => GatewayError | undefined,
  ) {}

  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((waiter) => waiter.resolve !== done);
        reject(this.reason() ?? new GatewayError('request_timeout', 'No connection to the gateway in time.', { retryable: true }));
      }, this.timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push({ resolve: done, reject: (error) => (clearTimeout(timer), reject(error)) });
    });
  }

  openAll(): void {
    for (const waiter of this.waiting.splice(0)) waiter.resolve();
  }

  failAll(error: GatewayError): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
