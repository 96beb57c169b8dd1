import { GatewayError } from '../models/errors';
import { LIMITS } from '../models/limits';
import { echoableRequestId, parseJsonObject } from '../models/validate';
import type { WsEvent } from '../utils/lambda';

/** The client's message as a JSON object, or a GatewayError saying what is wrong with it. */
export function readFrame(event: WsEvent): Record<string, unknown> {
  if (event.isBase64Encoded) {
    throw new GatewayError('invalid_request', 'Binary frames are not supported: send JSON in text frames.');
  }
  const body = event.body ?? '';
  if (Buffer.byteLength(body) > LIMITS.maxMessageBytes) {
    throw new GatewayError('payload_too_large', `A message may be at most ${LIMITS.maxMessageBytes} bytes.`);
  }
  return parseJsonObject(body);
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
