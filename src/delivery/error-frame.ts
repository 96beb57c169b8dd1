import type { ErrorFrame } from '../models/server-frames';
import type { GatewayError } from '../models/errors';

/** The one translation of a GatewayError into what the client sees. */
export function errorFrame(error: GatewayError, extra: Partial<ErrorFrame> = {}): ErrorFrame {
  return {
    type: 'error',
    ...(error.requestId !== undefined ? { requestId: error.requestId } : {}),
    ...(error.refusedRequestId !== undefined ? { refusedRequestId: error.refusedRequestId } : {}),
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...extra,
  };
}
