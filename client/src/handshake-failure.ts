/**
 * What a failed WebSocket handshake's error event says about why it failed. The `ws` package
 * names the cause in its message — the HTTP status of a refused handshake ("Unexpected server
 * response: 401"), or the network's error when no HTTP answer came ("connect ECONNREFUSED …",
 * "getaddrinfo ENOTFOUND …") — while a browser's error event is a bare Event that says nothing.
 */
export type HandshakeFailure =
  /** The gateway refused the token: HTTP 401 or 403. */
  | { readonly kind: 'refused'; readonly httpStatus: number }
  /** The host answered the handshake with another status (a failing gateway, a wrong path). */
  | { readonly kind: 'http'; readonly httpStatus: number }
  /** No HTTP answer: offline, a name that does not resolve, nothing listening, TLS. */
  | { readonly kind: 'network'; readonly reason: string }
  /** A browser's: nothing said (see `gatewayAnswers`). */
  | { readonly kind: 'unknown' };

const REFUSED = new Set([401, 403]);

export function handshakeFailure(event: unknown): HandshakeFailure {
  const message = typeof event === 'object' && event !== null && 'message' in event ? event.message : undefined;
  if (typeof message !== 'string' || message === '') return { kind: 'unknown' };
  const status = /Unexpected server response: (\d{3})/.exec(message);
  if (status === null) return { kind: 'network', reason: message };
  const httpStatus = Number(status[1]);
  return { kind: REFUSED.has(httpStatus) ? 'refused' : 'http', httpStatus };
}
