import type { BackoffOptions } from './backoff.js';

/**
 * An event handler slot that both the browser's WebSocket and the `ws` package's fit: their
 * handlers take their own event classes, which a plain function type would refuse under
 * strictFunctionTypes; a method's parameters are compared both ways, so either is accepted.
 * One way must still hold, so `E` names only what both classes have: an all-optional shape
 * (`{ message?: unknown }`) is a weak type, which the DOM's `Event` — no `message` — fails
 * both ways.
 */
type Handler<E> = { handle(event: E): void }['handle'] | null;

/** The part of the WebSocket API the client uses: the browser's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onclose: Handler<{ code: number }>;
  /**
   * `ws` passes an ErrorEvent whose `message` names the HTTP status of a refused handshake; the
   * browser, a plain Event without one. `unknown`, so both fit (the client looks for `message`).
   */
  onerror: Handler<unknown>;
  /** `options.fin` (the `ws` package): false sends a frame of a message whose rest follows. */
  send(data: string, options?: { fin?: boolean }): void;
  close(code?: number, reason?: string): void;
  /** The `ws` package's: present where a message can be sent in several frames. */
  terminate?: () => void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * `unauthorized`: the gateway refused the handshake (HTTP 401/403 where the platform shows it;
 * in browsers, every attempt failed before any opened while the gateway's host answers HTTP)
 * and the client stopped trying. A gateway that cannot be reached is `reconnecting` (told once
 * with GatewayError `unreachable`), never `unauthorized`.
 */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized';

export interface GatewayClientOptions {
  /** `wss://…/prod`, or `ws://127.0.0.1:3000/local`. */
  readonly url: string;
  /** A JWT, or a function giving one: read again on every (re)connect, so it can be refreshed. */
  readonly token?: string | (() => string | Promise<string>);
  /** A WebSocket implementation where there is no global one (Node < 22: the `ws` package). */
  readonly WebSocket?: WebSocketConstructor;
  /** A `ping` this often keeps the connection inside API Gateway's 10-minute idle timeout (default 5 min). */
  readonly keepaliveMs?: number;
  readonly reconnect?: BackoffOptions;
  /**
   * For browsers, which never say why a handshake failed (default 4): after this many in a row,
   * before this client ever opened, it asks whether the gateway's host answers HTTP at all (a
   * `no-cors` HEAD of its origin). If it does, one more handshake goes at once, and failing
   * too, they were refusals (a bad or missing token): it gives up with status and error
   * `unauthorized`. If not (offline, a name that does
   * not resolve, nothing listening), it reports `unreachable` and goes on retrying. Where the
   * failure names its cause (Node's `ws`), a 401 or 403 gives up after one more try with a fresh
   * token, and anything else is `unreachable`, retried.
   */
  readonly refusedAfterFailures?: number;
  /** How long a request waits for a connection before it fails (default 30 s). */
  readonly connectTimeoutMs?: number;
  /**
   * How long the gateway may take to answer a request (`accepted`) or a resume (its first
   * frame) before the request fails with `request_timeout` (retryable) and is cancelled
   * (default 35 s: the route function's 29 s limit and a margin).
   */
  readonly requestTimeoutMs?: number;
}

export interface RequestOptions {
  /** Aborting it sends `llm/cancel` and ends the request with GatewayError `cancelled` (name AbortError). */
  readonly signal?: AbortSignal;
  /** Defaults to a fresh random id. */
  readonly requestId?: string;
  /**
   * Called once the gateway accepted the request, with the token that resumes it — before any
   * of its text, which may be seconds away while the model thinks: the moment to keep the token
   * (e.g. in sessionStorage) so a reload at any point after can `resume()` the answer.
   */
  readonly onAccepted?: (resumeToken: string) => void;
  /**
   * Called on each `resumed` frame of the request: the gateway took a resume of it (after a
   * dropped connection, from the first chunk not delivered — `fromSeq`), and the answer goes on.
   * Chunks it replays that were delivered already are dropped by the client, so a UI only needs
   * this to say that the answer was resumed.
   */
  readonly onResumed?: (fromSeq: number) => void;
}
