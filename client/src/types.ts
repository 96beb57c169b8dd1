import type { BackoffOptions } from './backoff.js';

/** The part of the WebSocket API the client uses: the browser's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed';

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
}
