import { GatewayError } from '../models/errors';
import { retryAfterMs } from './retry-after';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * Errors of the credentials themselves (none found, unknown key, bad signature, expired
 * session): no retry fixes them, an operator must.
 */
const CREDENTIAL_ERRORS = new Set([
  'credentialsprovidererror',
  'unrecognizedclientexception',
  'invalidsignatureexception',
  'expiredtokenexception',
  'incompletesignature',
]);

/**
 * Translates a Bedrock failure — an HTTP error before the stream or an exception event inside
 * it (the SDK throws both) — into the gateway's error codes. Messages are fixed and written for
 * the client (what an operator must do included, without any account detail); Bedrock's own text
 * never reaches the client, and the original error stays attached as `cause` for the log.
 */
export function mapBedrockError(raw: unknown, modelId: string): GatewayError {
  if (raw instanceof GatewayError) return raw;
  const error = (typeof raw === 'object' && raw !== null ? raw : {}) as SdkError;
  const name = (error.name ?? '').toLowerCase();
  const status = error.$metadata?.httpStatusCode;
  // Read to tell cases apart, never sent.
  const detail = error.message ?? '';
  const options = { cause: raw };

  if (name === 'throttlingexception' || name === 'servicequotaexceededexception' || status === 429) {
    return new GatewayError('upstream_throttled', `The model "${modelId}" is busy (throttled by Amazon Bedrock). Retry shortly.`, {
      ...options,
      retryable: true,
      retryAfterMs: retryAfterMs((name) => error.$response?.headers?.[name]),
    });
  }
  if (name === 'modeltimeoutexception' || status === 408) {
    return new GatewayError('upstream_timeout', `The model "${modelId}" timed out.`, { ...options, retryable: true });
  }
  if (name === 'validationexception') {
    if (/model identifier|model id|invalid model|provided model/i.test(detail)) {
      return new GatewayError('model_not_allowed', `Amazon Bedrock does not accept the model id "${modelId}" here.`, options);
    }
    const kind = /\bimage\b/i.test(detail) ? 'images' : /\bdocument\b/i.test(detail) ? 'documents' : undefined;
    if (kind !== undefined) {
      return new GatewayError('invalid_request', `The model "${modelId}" cannot read ${kind} on Amazon Bedrock: send text only, or pick a model that reads them.`, options);
    }
    if (/tool ?use|toolConfig|tool ?choice/i.test(detail)) {
      return new GatewayError(
        'invalid_request',
        `The model "${modelId}" does not support tool use, or this toolChoice, on Amazon Bedrock: ask without tools (or with toolChoice "auto"), or pick a model that supports them.`,
        options,
      );
    }
    if (/too long|too many (input )?tokens|context (length|window)|exceeds? the (max|limit)/i.test(detail)) {
      return new GatewayError('invalid_request', `The conversation is too long for the model "${modelId}": shorten it or start a new one.`, options);
    }
    // Bedrock's reason may quote the request: the client gets a fixed message, the log the reason.
    return new GatewayError('invalid_request', "Amazon Bedrock refused the request as invalid (ValidationException); the gateway's log has its reason.", options);
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return new GatewayError(
      'upstream_error',
      'The gateway cannot sign its calls to Amazon Bedrock: it has no valid AWS credentials. Operator: give the function a role ' +
        '(in AWS) or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (locally), then restart.',
      options,
    );
  }
  if (name === 'accessdeniedexception' || status === 403) {
    return new GatewayError(
      'upstream_error',
      `The gateway has no access to the model "${modelId}". Operator: enable model access for it in the Amazon Bedrock console ` +
        '(Model access, in this region) and allow bedrock:InvokeModelWithResponseStream on its model or inference-profile ARN.',
      options,
    );
  }
  if (name === 'resourcenotfoundexception' || status === 404) {
    return new GatewayError(
      'upstream_error',
      `The model "${modelId}" was not found in this region. Operator: check the model id, the region, and that model access is enabled.`,
      options,
    );
  }
  // modelStreamErrorException, internalServerException, serviceUnavailableException,
  // modelNotReadyException, network errors: the provider failed, trying again may work.
  return new GatewayError('upstream_error', `The model "${modelId}" failed while answering. Retry shortly.`, {
    ...options,
    retryable: true,
  });
}
