import { backoffDelay } from './backoff.js';
import { GatewayError } from './errors.js';
import { frameText } from './frame-size.js';
import { handshakeFailure, type HandshakeFailure } from './handshake-failure.js';
import { Keepalive } from './keepalive.js';
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
 * status and its listeners, and callers waiting (bounded) for the connection to open. A refused
 * handshake is told apart from network trouble — by its HTTP status where the platform shows
 * it, else by every attempt failing before any opened while the gateway's host answers HTTP —
 * and ends in status `unauthorized` instead of reconnecting for ever. A gateway that cannot be
 * reached is retried with backoff, reported as `unreachable`: offline is not signed out.
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
  /** This client opened a connection at least once since `connect()`: later failures are the network's. */
  private everOpened = false;
  /** Handshakes failed in a row before any opened. */
  private failures = 0;
  /** Handshakes refused with 401/403 in a row (the token function is asked again after the first). */
  private refusals = 0;
  /** What the current attempt's error event said (a browser's says nothing). */
  private lastFailure: HandshakeFailure = UNKNOWN;
  /** Why the gateway cannot be reached, told to the listeners once in this outage; cleared when a connection opens. */
  private unreachable: GatewayError | undefined;
  /** open() is reading the token, or a probe asks whether the host answers: a second connect() must not start a second socket meanwhile. */
  private opening = false;
  private probing = false;
  /** A probe found the gateway's host answering: the next failed handshake is a refusal. */
  private hostAnswers = false;
  /** Bumped by close(): a probe that outlived its connect() must not act on the next one. */
  private epoch = 0;
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
  onStatus(listener: (status: Status, error?: GatewayError) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the connection (and keeps it open, reconnecting, until `close()`). */
  connect(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (!this.wanted) {
      this.everOpened = false;
      this.failures = 0;
      this.refusals = 0;
      this.unreachable = undefined;
      this.hostAnswers = false;
    }
    this.wanted = true;
    const ready = this.whenOpen();
    if (this.socket === undefined && this.reconnectTimer === undefined && !this.opening && !this.probing) void this.open();
    return ready;
  }

  /**
   * Sends a frame if the socket is open; returns whether it went out. A frame over the gateway's
   * message limit throws GatewayError `payload_too_large` instead and is not sent: the gateway
   * would close the connection for it, and every request on it with it.
   */
  send(frame: unknown): boolean {
    if (this.state !== 'open' || this.socket === undefined) return false;
    this.socket.send(frameText(frame));
    return true;
  }

  /** Closes the socket and stops reconnecting; callers waiting for it get GatewayError `closed`. */
  close(): Promise<void> {
    this.wanted = false;
    this.epoch += 1;
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
    this.everOpened = true;
    this.failures = 0;
    this.refusals = 0;
    this.attempt = 0;
    this.unreachable = undefined;
    this.hostAnswers = false;
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
    if (!this.wanted) this.setStatus('closed');
    else if (this.socketOpened) this.retry();
    else this.onHandshakeFailed();
  }

  private onHandshakeFailed(): void {
    const failure = this.lastFailure;
    switch (failure.kind) {
      case 'refused':
        this.refusals += 1;
        // Once more at once: the token function may give a fresh token (an expired one is the usual cause).
        if (this.refusals < 2) void this.open();
        else this.giveUp(new GatewayError('unauthorized', `The gateway refused the connection (HTTP ${failure.httpStatus}): the token is missing, invalid or expired.`, { httpStatus: failure.httpStatus }));
        return;
      case 'http':
        this.retryUnreachable(
          new GatewayError('unreachable', `The gateway could not be reached: its host answered the handshake with HTTP ${failure.httpStatus}, not a refused token; retrying (check the URL if it lasts).`, {
            retryable: true,
            httpStatus: failure.httpStatus,
          }),
        );
        return;
      case 'network':
        this.retryUnreachable(new GatewayError('unreachable', `The gateway could not be reached (${failure.reason}); retrying.`, { retryable: true }));
        return;
      case 'unknown':
        break;
    }
    if (!this.everOpened) {
      this.failures += 1;
      if (this.hostAnswers) {
        this.giveUp(new GatewayError('unauthorized', `The gateway refused the connection (${this.failures} attempts failed before any opened, the last while its host answers): check the token — or the URL.`));
        return;
      }
      if (this.failures >= (this.options.refusedAfterFailures ?? 4)) {
        void this.probe();
        return;
      }
    }
    this.retry();
  }

  /**
   * A browser's run of failed handshakes, which never say why. If the gateway's host does not
   * answer HTTP either (offline, a name that does not resolve, nothing listening), the outage is
   * the network's and is retried. If it answers, one more handshake goes at once: failing too,
   * with the host up a moment before, it is a refusal — while the earlier ones may have failed
   * just before the network came back, so they alone do not make one.
   */
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
    if (answers === false) {
      this.retryUnreachable(new GatewayError('unreachable', `The gateway could not be reached (its host does not answer: offline, a name that does not resolve, or nothing listening there); retrying.`, { retryable: true }));
      return;
    }
    if (answers === undefined) {
      // No way to ask (no fetch): the failures alone decide, as they did before there was a probe.
      this.giveUp(new GatewayError('unauthorized', `The gateway refused the connection (${this.failures} attempts failed before any opened): check the token — or the URL.`));
      return;
    }
    this.hostAnswers = true;
    void this.open();
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
    for (const waiter of this.opened.splice(0)) waiter.reject(error);
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

  private whenOpen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.opened = this.opened.filter((waiter) => waiter.resolve !== done);
        // Say why, when it is known: an app shows "offline" for this, not a timeout.
        reject(this.unreachable ?? new GatewayError('request_timeout', 'No connection to the gateway in time.', { retryable: true }));
      }, this.options.connectTimeoutMs ?? 30_000);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.opened.push({ resolve: done, reject: (error) => (clearTimeout(timer), reject(error)) });
    });
  }

  /** Tells the listeners a new status — or the same one with a reason (an outage's `unreachable`). */
  private setStatus(status: Status, error?: GatewayError): void {
    if (status === this.state && error === undefined) return;
    this.state = status;
    for (const listener of this.listeners) listener(status, error);
  }
}
