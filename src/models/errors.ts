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
  'resume_unavailable',
  'resumed_elsewhere',
  'not_found',
  'conversation_busy',
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
  /** The request this error ends (the frame's `requestId`): the client may close that turn. */
  readonly requestId: string | undefined;
  /**
   * The id a refused frame named, when that id is not ended by this error: a duplicate of a
   * running request, a cancel, a ping. Sent as `refusedRequestId`, never as `requestId`, so a
   * refusal never reads as the end of another request.
   */
  readonly refusedRequestId: string | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.requestId = options.requestId;
    this.refusedRequestId = options.refusedRequestId;
  }

  /** The same error, tagged as the end of request `requestId`. */
  forRequest(requestId: string | undefined): GatewayError {
    return this.tagged({ requestId });
  }

  /** The same error, tagged as the refusal of a frame naming `requestId` (which it does not end). */
  refusing(requestId: string | undefined): GatewayError {
    return this.tagged({ refusedRequestId: requestId });
  }

  private tagged(tag: Pick<GatewayErrorOptions, 'requestId' | 'refusedRequestId'>): GatewayError {
    const id = tag.requestId ?? tag.refusedRequestId;
    if (id === undefined || this.requestId !== undefined || this.refusedRequestId !== undefined) return this;
    return new GatewayError(this.code, this.message, {
      retryable: this.retryable,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      ...tag,
      cause: this.cause,
    });
  }
}

export interface GatewayErrorOptions {
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;
  readonly requestId?: string | undefined;
  readonly refusedRequestId?: string | undefined;
  readonly cause?: unknown;
}

/** Any failure that is not a GatewayError becomes `internal_error` with no detail for the client. */
/** What a cancelled request ends with (the route's cancel and the worker's watch both stop it so). */
export function cancelledError(): GatewayError {
  return new GatewayError('cancelled', 'The request was cancelled.');
}

export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('internal_error', 'The gateway failed to handle this request.', {
    retryable: true,
    cause: error,
  });
}
