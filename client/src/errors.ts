import type { ErrorCode } from './protocol.generated.js';

/**
 * Failures the client itself detects, beside the server's protocol codes. `unreachable`: no
 * connection could be opened and no token was refused — offline, a name that does not resolve,
 * nothing listening, or a handshake answered with a status other than 401/403 (retryable; the
 * client keeps trying).
 */
export type ClientErrorCode = 'connection_lost' | 'closed' | 'request_timeout' | 'protocol_error' | 'detached' | 'unreachable';

/**
 * Every failure a request can end with: the server's `error` frame (its `code`, `message`,
 * `retryable` and `retryAfterMs`), or one the client detects. A cancel through an AbortSignal
 * ends the request with code `cancelled` (and `name` 'AbortError', as fetch does).
 */
export class GatewayError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  /** For `unauthorized` or `unreachable` from a failed handshake: its HTTP status, where the platform shows it (Node's `ws`; never browsers). */
  readonly httpStatus: number | undefined;

  constructor(code: ErrorCode | ClientErrorCode, message: string, options: { retryable?: boolean; retryAfterMs?: number; requestId?: string; httpStatus?: number } = {}) {
    super(message);
    this.name = code === 'cancelled' ? 'AbortError' : 'GatewayError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.requestId = options.requestId;
    this.httpStatus = options.httpStatus;
  }
}
