import { backoffDelay } from './backoff.js';
import { GatewayError } from './errors.js';
import { frameText, framePieces, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from './frame-size.js';
import { handshakeFailure, type HandshakeFailure } from './handshake-failure.js';
import { HandshakeVerdicts, type Verdict } from './handshake-verdict.js';
import { Keepalive } from './keepalive.js';
import { OpenWaiters } from './open-waiters.js';
import { gatewayAnswers } from './reachability.js';
import type { GatewayClientOptions, Status, WebSocketConstructor, WebSocketLike } from './types.js';

const OPEN = 1;
const UNKNOWN: HandshakeFailure = { kind: 'unknown' };

/** What the connection tells its owner, the client, which keeps the requests. */
export interface ConnectionEvents {
  /** A socket opened (the first, or after a reconnect). */
  opened(): void;
  /** The socket closed; a reconnect follows unless the client was closed. */
  closed(): void;
  /** The gateway refused the connection and the client stopped trying (status `unauthorized`). */
  refused(error: GatewayError): void;
  message(data: unknown): void;
}

/**
 * The one WebSocket the client talks through, kept open until `close()`: the token read again on
 * every (re)connect, reconnect with exponential backoff and full jitter, keepalive pings, the
 * status and its listeners, callers waiting (bounded: OpenWaiters) for it to open. What a failed
 * handshake means — retry, refused (status `unauthorized`), unreachable — HandshakeVerdicts says.
 */
export class Connection {
  private socket: WebSocketLike | undefined;
  private state: Status = 'closed';
  private wanted = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly keepalive: Keepalive;
  private readonly listeners = new Set<(status: Status, error?: GatewayError) => void>();
  /** The socket of the current attempt has opened (else its close is a failed handshake). */
  private socketOpened = false;
  /** What the failed handshakes of this run mean: retry, refused, or unreachable. */
  private readonly verdicts: HandshakeVerdicts;
  /** What the current attempt's error event said (a browser's says nothing). */
  private lastFailure: HandshakeFailure = UNKNOWN;
  /** Why the gateway cannot be reached, told to the listeners once in this outage; cleared when a connection opens. */
  private unreachable: GatewayError | undefined;
  /** open() is reading the token, or a probe asks whether the host answers: a second connect() must not start a second socket meanwhile. */
  private opening = false;
  private probing = false;
  /** Bumped by close(): a probe that outlived its connect() must not act on the next one. */
  private epoch = 0;
  private readonly waiters: OpenWaiters;

  constructor(
    private readonly options: GatewayClientOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.keepalive = new Keepalive(() => this.socket, options.keepaliveMs ?? 5 * 60_000);
    this.verdicts = new HandshakeVerdicts(options.refusedAfterFailures ?? 4);
    this.waiters = new OpenWaiters(options.connectTimeoutMs ?? 30_000, () => this.unreachable);
  }

  get status(): Status {
    return this.state;
  }

  /** Listens to status changes; returns the function that stops listening. */
  onStatus(listener: (status: Status, error?: GatewayError) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the connection (and keeps it open, reconnecting, until `close()`). */
  connect(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (!this.wanted) {
      this.verdicts.reset(false);
      this.unreachable = undefined;
    }
    this.wanted = true;
    const ready = this.waiters.wait();
    if (this.socket === undefined && this.reconnectTimer === undefined && !this.opening && !this.probing) void this.open();
    return ready;
  }

  /**
   * Sends a frame if the socket is open; returns whether it went out. A frame over what the
   * gateway takes throws GatewayError `payload_too_large` instead and is not sent: the gateway
   * would close the connection for it, and every request on it with it. API Gateway takes at
   * most 32 KB in one WebSocket frame: the `ws` package sends a longer message (to 128 KB) in
   * frames of that size; a browser's WebSocket sends a message as one frame, so there 32 KB.
   */
  send(frame: unknown): boolean {
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined) return false;
    const splits = typeof socket.terminate === 'function';
    const text = frameText(frame, splits ? MAX_MESSAGE_BYTES : MAX_FRAME_BYTES);
    const pieces = splits ? framePieces(text) : [text];
    if (pieces.length === 1) socket.send(text);
    else pieces.forEach((piece, i) => socket.send(piece, { fin: i === pieces.length - 1 }));
    return true;
  }

  /** Closes the socket and stops reconnecting; callers waiting for it get GatewayError `closed`. */
  close(): Promise<void> {
    this.wanted = false;
    this.epoch += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.waiters.failAll(new GatewayError('closed', 'The client was closed.'));
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
    this.opening = true;
    try {
      const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
      if (token) url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    } catch {
      this.retry();
      return;
    } finally {
      this.opening = false;
    }
    if (!this.wanted) return;
    const Impl = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Impl === undefined) throw new TypeError('No WebSocket implementation: pass one as the WebSocket option (e.g. the ws package).');
    const socket = new Impl(url);
    this.socket = socket;
    this.socketOpened = false;
    this.lastFailure = UNKNOWN;
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (event) => this.events.message(event.data);
    socket.onerror = (event) => {
      const failure = handshakeFailure(event);
      if (socket === this.socket && failure.kind !== 'unknown') this.lastFailure = failure;
    };
    socket.onclose = () => this.onClose(socket);
  }

  private onOpen(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.socketOpened = true;
    this.verdicts.reset(true);
    this.attempt = 0;
    this.unreachable = undefined;
    this.setStatus('open');
    this.keepalive.start();
    this.waiters.openAll();
    this.events.opened();
  }

  private onClose(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.keepalive.stop();
    this.events.closed();
    if (!this.wanted) this.setStatus('closed');
    else if (this.socketOpened) this.retry();
    else this.onHandshakeFailed();
  }

  private onHandshakeFailed(): void {
    this.act(this.verdicts.afterFailure(this.lastFailure));
  }

  private act(verdict: Verdict): void {
    switch (verdict.kind) {
      case 'retry':
        return this.retry();
      case 'again':
        return void this.open();
      case 'probe':
        return void this.probe();
      case 'unreachable':
        return this.retryUnreachable(verdict.error);
      case 'refused':
        return this.giveUp(verdict.error);
    }
  }

  /** Asks whether the gateway's host answers HTTP (HandshakeVerdicts.afterProbe says what follows). */
  private async probe(): Promise<void> {
    const epoch = this.epoch;
    this.probing = true;
    let answers: boolean | undefined;
    try {
      answers = await gatewayAnswers(this.options.url);
    } finally {
      this.probing = false;
    }
    if (!this.wanted) return;
    if (epoch !== this.epoch) {
      // close() and connect() again while it asked: that connect() waits for this socket.
      void this.open();
      return;
    }
    this.act(this.verdicts.afterProbe(answers));
  }

  /** An outage: told once to the listeners (status `reconnecting` with the reason), then retried with backoff. */
  private retryUnreachable(error: GatewayError): void {
    const news = this.unreachable === undefined || this.unreachable.httpStatus !== error.httpStatus;
    this.unreachable = error;
    if (news) this.setStatus('reconnecting', error);
    this.retry();
  }

  /** Stops trying: status `unauthorized`, its error to whoever waits; `connect()` starts again. */
  private giveUp(error: GatewayError): void {
    this.wanted = false;
    this.waiters.failAll(error);
    this.events.refused(error);
    this.setStatus('unauthorized', error);
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

  /** Tells the listeners a new status — or the same one with a reason (an outage's `unreachable`). */
  private setStatus(status: Status, error?: GatewayError): void {
    if (status === this.state && error === undefined) return;
    this.state = status;
    for (const listener of this.listeners) listener(status, error);
  }
}
