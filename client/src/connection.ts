import { backoffDelay } from './backoff.js';
import { GatewayError } from './errors.js';
import { Keepalive } from './keepalive.js';
import type { GatewayClientOptions, Status, WebSocketConstructor, WebSocketLike } from './types.js';

const OPEN = 1;

/** What the connection tells its owner, the client, which keeps the requests. */
export interface ConnectionEvents {
  /** A socket opened (the first, or after a reconnect). */
  opened(): void;
  /** The socket closed; a reconnect follows unless the client was closed. */
  closed(): void;
  message(data: unknown): void;
}

/**
 * The one WebSocket the client talks through, kept open until `close()`: the token read again on
 * every (re)connect, reconnect with exponential backoff and full jitter, keepalive pings, the
 * status and its listeners, and callers waiting (bounded) for the connection to open.
 */
export class Connection {
  private socket: WebSocketLike | undefined;
  private state: Status = 'closed';
  private wanted = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly keepalive: Keepalive;
  private readonly listeners = new Set<(status: Status) => void>();
  private opened: Array<{ resolve: () => void; reject: (error: GatewayError) => void }> = [];

  constructor(
    private readonly options: GatewayClientOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.keepalive = new Keepalive(() => this.socket, options.keepaliveMs ?? 5 * 60_000);
  }

  get status(): Status {
    return this.state;
  }

  /** Listens to status changes; returns the function that stops listening. */
  onStatus(listener: (status: Status) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the connection (and keeps it open, reconnecting, until `close()`). */
  connect(): Promise<void> {
    this.wanted = true;
    if (this.state === 'open') return Promise.resolve();
    const ready = this.whenOpen();
    if (this.socket === undefined && this.reconnectTimer === undefined) void this.open();
    return ready;
  }

  /** Sends a frame if the socket is open; returns whether it went out. */
  send(frame: unknown): boolean {
    if (this.state !== 'open' || this.socket === undefined) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes the socket and stops reconnecting; callers waiting for it get GatewayError `closed`. */
  close(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    for (const waiter of this.opened.splice(0)) waiter.reject(new GatewayError('closed', 'The client was closed.'));
    const socket = this.socket;
    this.socket = undefined;
    this.keepalive.stop();
    this.setStatus('closed');
    if (socket === undefined || socket.readyState > OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      socket.onclose = () => resolve();
      socket.close(1000, 'client closed');
    });
  }

  private async open(): Promise<void> {
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let url = this.options.url;
    try {
      const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
      if (token) url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    } catch {
      this.retry();
      return;
    }
    if (!this.wanted) return;
    const Impl = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Impl === undefined) throw new TypeError('No WebSocket implementation: pass one as the WebSocket option (e.g. the ws package).');
    const socket = new Impl(url);
    this.socket = socket;
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (event) => this.events.message(event.data);
    socket.onerror = () => undefined;
    socket.onclose = () => this.onClose(socket);
  }

  private onOpen(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.attempt = 0;
    this.setStatus('open');
    this.keepalive.start();
    for (const waiter of this.opened.splice(0)) waiter.resolve();
    this.events.opened();
  }

  private onClose(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.keepalive.stop();
    this.events.closed();
    if (this.wanted) this.retry();
    else this.setStatus('closed');
  }

  private retry(): void {
    const delay = backoffDelay(this.attempt, this.options.reconnect);
    this.attempt += 1;
    this.setStatus('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.wanted) void this.open();
    }, delay);
  }

  private whenOpen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.opened = this.opened.filter((waiter) => waiter.resolve !== done);
        reject(new GatewayError('request_timeout', 'No connection to the gateway in time.', { retryable: true }));
      }, this.options.connectTimeoutMs ?? 30_000);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.opened.push({ resolve: done, reject: (error) => (clearTimeout(timer), reject(error)) });
    });
  }

  private setStatus(status: Status): void {
    if (status === this.state) return;
    this.state = status;
    for (const listener of this.listeners) listener(status);
  }
}
