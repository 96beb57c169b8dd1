import { APIConnectionError, APIConnectionTimeoutError, APIError, OpenAIError } from 'openai';
import { GatewayError } from '../models/errors';
import { retryAfterMs } from './retry-after';

/** The shortest run of the key's first characters that counts as the key showing. */
const KEY_PREFIX = 8;

/**
 * Keys and credentials never reach the log: the key itself and any long run of its first
 * characters (a server may echo a truncated key), anything shaped like an API key, a bearer
 * token or HTTP basic credentials (which carry the key base64-encoded), and the user:password of
 * a URL (a base URL may carry them). Clients never see upstream text at all (see mapOpenAiError).
 */
export function scrub(message: string, key: string | undefined, maxLength = 300): string {
  let text = message;
  if (key !== undefined && key.length >= 4) text = text.split(key).join('[key]');
  if (key !== undefined && key.length > KEY_PREFIX) text = withoutPrefixes(text, key);
  return text
    .replace(/\b(sk|gsk|xai|pk)-[A-Za-z0-9_-]{8,}/g, '[key]')
    .replace(/Bearer\s+\S+/gi, 'Bearer [key]')
    .replace(/Basic\s+[A-Za-z0-9+/=_-]+/gi, 'Basic [key]')
    .replace(/(\w+:\/\/)[^/\s:@]+(:[^/\s@]*)?@/g, '$1')
    .slice(0, maxLength);
}

/** `text` with every run of at least KEY_PREFIX of the key's first characters replaced. */
function withoutPrefixes(text: string, key: string): string {
  const start = key.slice(0, KEY_PREFIX);
  let out = '';
  let from = 0;
  for (let at = text.indexOf(start); at !== -1; at = text.indexOf(start, from)) {
    let end = at + KEY_PREFIX;
    while (end < text.length && end - at < key.length && text[end] === key[end - at]) end += 1;
    out += `${text.slice(from, at)}[key]`;
    from = end;
  }
  return out + text.slice(from);
}

/**
 * The failure as the log gets it (pino prints `cause` with its message and stack): the same name,
 * status and code, with the message and stack scrubbed, and none of the response's headers or body.
 */
function scrubbedCause(raw: unknown, key: string | undefined): Error {
  if (!(raw instanceof Error)) return new Error(scrub(String(raw), key));
  const copy = new Error(scrub(raw.message, key));
  copy.name = raw.name;
  copy.stack = scrub(raw.stack ?? raw.message, key, 4000);
  const api = raw instanceof APIError ? (raw as APIError) : undefined;
  if (api !== undefined) Object.assign(copy, { status: api.status, code: api.code, requestId: api.requestID });
  return copy;
}

const CONTEXT_TOO_LONG = /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|reduce the length/i;

/**
 * Translates a failure of an OpenAI-compatible server — an HTTP error before the stream, an error
 * event inside it, a broken connection — into the gateway's error codes, as Bedrock's are. The
 * client's message is fixed per case (what an operator must do included); the server's own text
 * never reaches the client, and reaches the log only scrubbed (`cause`).
 */
export function mapOpenAiError(raw: unknown, modelId: string, key: string | undefined): GatewayError {
  if (raw instanceof GatewayError) return raw;
  // The SDK wraps a failure of the key source (ours throws a GatewayError) in an OpenAIError.
  if (raw instanceof OpenAIError && raw.cause instanceof GatewayError) return raw.cause;
  const options = { cause: scrubbedCause(raw, key) };
  if (raw instanceof APIConnectionTimeoutError) {
    return new GatewayError('upstream_timeout', `The model "${modelId}" timed out.`, { ...options, retryable: true });
  }
  if (raw instanceof APIConnectionError) {
    return new GatewayError('upstream_error', `The gateway could not reach the model "${modelId}". Retry shortly.`, { ...options, retryable: true });
  }
  const api: APIError | undefined = raw instanceof APIError ? (raw as APIError) : undefined;
  if (api?.status !== undefined) {
    const status = api.status;
    if (status === 429) {
      return new GatewayError('upstream_throttled', `The model "${modelId}" is busy (rate limited by its provider). Retry shortly.`, {
        ...options,
        retryable: true,
        retryAfterMs: retryAfterMs((name) => api.headers?.get(name)),
      });
    }
    if (status === 401 || status === 403) {
      return new GatewayError(
        'upstream_error',
        `The model provider refused the gateway's API key (HTTP ${status}). Operator: check OPENAI_API_KEY (in AWS, the secret ` +
          'OPENAI_API_KEY_SECRET_ARN names) and that the key may use this model.',
        options,
      );
    }
    if (status === 404) {
      return new GatewayError('model_not_allowed', `The model provider does not serve the model "${modelId}".`, options);
    }
    if (status === 408) return new GatewayError('upstream_timeout', `The model "${modelId}" timed out.`, { ...options, retryable: true });
    if (status === 400 || status === 413 || status === 422) {
      if (api.code === 'context_length_exceeded' || CONTEXT_TOO_LONG.test(api.message)) {
        return new GatewayError('invalid_request', `The conversation is too long for the model "${modelId}": shorten it or start a new one.`, options);
      }
      // The server's reason may echo the request or the key: the client gets a fixed message,
      // the log the reason (scrubbed, in `cause`).
      return new GatewayError('invalid_request', `The model provider refused the request as invalid (HTTP ${status}); the gateway's log has its reason.`, options);
    }
  }
  // 5xx, an error event inside the stream, a connection cut mid-answer: trying again may work.
  return new GatewayError('upstream_error', `The model "${modelId}" failed while answering. Retry shortly.`, { ...options, retryable: true });
}
