import { GatewayError } from '../models/errors';
import { LIMITS } from '../models/limits';

/**
 * What Fastify's own body handling refuses, in the protocol's terms. Fastify parses every
 * MESSAGE body (once, with its JSON parser) before the route runs; these are its refusals.
 */
const BODY_ERRORS: Readonly<Record<string, () => GatewayError>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => new GatewayError('invalid_json', 'The message is not valid JSON. Send one JSON object per text frame.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new GatewayError('invalid_json', 'The message is not valid JSON. Send one JSON object per text frame.'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new GatewayError('payload_too_large', `A message may be at most ${LIMITS.maxMessageBytes} bytes.`),
  // A base64 (binary) body is handed over as application/octet-stream, which has no parser.
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new GatewayError('invalid_request', 'Binary frames are not supported: send JSON in text frames.'),
};

/** A GatewayError for a failure of Fastify's body handling; any other error as it is. */
export function fromFastify(error: unknown): unknown {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const mapped = typeof code === 'string' ? BODY_ERRORS[code] : undefined;
  return mapped ? mapped() : error;
}
