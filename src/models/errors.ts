/** Every error code a client can receive in an `error` frame (wire protocol v1). */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unknown_action',
  'payload_too_large',
  'model_not_allowed',
  'rate_limited',
  'unauthorized',
  'cancelled',
  'upstream_throttled',
  'upstream_error',
  'upstream_timeout',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one error type the gateway turns into an `error` frame. `message` is safe to show to
 * the client; `cause` (never sent) keeps the internal detail for the log.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** The client's requestId, when the failing frame carried a usable one. */
  readonly requestId: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; requestId?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.requestId = options.requestId;
  }

  /** The same error, tagged with the requestId it answers. */
  forRequest(requestId: string | undefined): GatewayError {
    if (requestId === undefined || this.requestId !== undefined) return this;
    return new GatewayError(this.code, this.message, {
      retryable: this.retryable,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      requestId,
      cause: this.cause,
    });
  }
}

/** Any failure that is not a GatewayError becomes `internal_error` with no detail for the client. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('internal_error', 'The gateway failed to handle this request.', {
    retryable: true,
    cause: error,
  });
}
