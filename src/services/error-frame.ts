import type { ErrorFrame } from '../models/frames';
import type { GatewayError } from '../models/errors';

/** The one translation of a GatewayError into what the client sees. */
export function errorFrame(error: GatewayError, requestId?: string, extra: Partial<ErrorFrame> = {}): ErrorFrame {
  return {
    type: 'error',
    ...((requestId ?? error.requestId) !== undefined ? { requestId: requestId ?? error.requestId } : {}),
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...extra,
  };
}
