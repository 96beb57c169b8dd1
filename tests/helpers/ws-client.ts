import WebSocket from 'ws';
import { framePieces } from '../../client/src/frame-size.js';

export type Frame = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A WebSocket test client that records every frame and can wait for one. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      this.raw.push(text);
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        this.frames.push({ unparseable: text });
      }
      this.listeners.forEach((notify) => notify());
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.listeners.forEach((notify) => notify());
      });
    });
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new TestClient(socket);
  }

  /** The HTTP status of a refused handshake. */
  static async refusal(url: string): Promise<number> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        socket.terminate();
      });
      socket.once('open', () => reject(new Error('handshake was accepted')));
      socket.once('error', () => undefined);
    });
  }

  /**
   * Sends one message — over 32 KB in frames of at most 32 KB, as API Gateway needs (and the
   * emulator checks); `sendOneFrame` sends it whole, as a browser does.
   */
  send(frame: unknown): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    const pieces = framePieces(text);
    pieces.forEach((piece, i) => this.socket.send(piece, { fin: i === pieces.length - 1 }));
  }

  sendOneFrame(text: string): void {
    this.socket.send(text);
  }

  /** Frames of one request, in arrival order. */
  of(requestId: string): Frame[] {
    return this.frames.filter((frame) => frame.requestId === requestId);
  }

  /** Waits until `predicate` holds for the recorded frames. */
  async waitFor(predicate: (frames: Frame[]) => boolean, timeoutMs = 5000, what = 'condition'): Promise<Frame[]> {
    if (predicate(this.frames)) return this.frames;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate(this.frames)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(this.frames);
      };
      this.listeners.push(check);
    });
  }

  /** Waits for the terminal frame (done, response's last part, or error) of a request. */
  async terminal(requestId: string, timeoutMs = 5000): Promise<Frame> {
    const isTerminal = (f: Frame): boolean =>
      f.requestId === requestId &&
      (f.type === 'done' || f.type === 'error' || (f.type === 'response' && f.part === f.parts - 1));
    await this.waitFor((frames) => frames.some(isTerminal), timeoutMs, `the end of ${requestId}`);
    return this.frames.find(isTerminal) as Frame;
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000, 'bye');
    await this.closed;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 10 ms until it holds; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The clients a test opens, closed together after it. */
export class ClientPool {
  private readonly open: TestClient[] = [];

  constructor(private readonly url: () => string) {}

  async connect(): Promise<TestClient> {
    return this.track(await TestClient.connect(this.url()));
  }

  /** Adds a client opened elsewhere (e.g. by connectTracked). */
  track(client: TestClient): TestClient {
    this.open.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((client) => client.close()));
  }
}

/**
 * Waits, if needed, until the current one-minute limit window has at least `needMs` left: a test
 * that counts requests per minute must not straddle two windows (the count would start again).
 */
export async function freshMinute(needMs = 20_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await sleep(left + 50);
}
