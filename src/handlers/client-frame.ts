import { GatewayError } from '../models/errors';
import { echoableRequestId } from '../models/validate';

/**
 * The client's message, as Fastify parsed it, when it is a JSON object; a GatewayError
 * otherwise. (Invalid JSON, a binary frame and a message above the limit never get here: the
 * parser refuses them and the error handler answers them.)
 */
export function frameOf(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_json', 'The message must be a JSON object with an "action" field.');
  }
  return body as Record<string, unknown>;
}

/**
 * Runs `validate` on a frame that starts no request (cancel, ping) and tags a failure with the
 * frame's id as `refusedRequestId`: the client can correlate it, and it never reads as the end
 * of the request that id may name.
 */
export function validated<T>(frame: Record<string, unknown>, validate: (value: unknown) => T): T {
  try {
    return validate(frame);
  } catch (error) {
    if (error instanceof GatewayError) throw error.refusing(echoableRequestId(frame));
    throw error;
  }
}
