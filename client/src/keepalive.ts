import type { WebSocketLike } from './types.js';

const OPEN = 1;

/** A fresh random request id (96 bits, hex). */
export function randomId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A `ping` at an interval on whatever connection is open, inside API Gateway's idle timeout. */
export class Keepalive {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly socket: () => WebSocketLike | undefined,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => {
      const socket = this.socket();
      if (socket?.readyState === OPEN) socket.send(JSON.stringify({ action: 'ping' }));
    }, this.intervalMs);
    // In Node, a keepalive alone must not hold the process open.
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
