import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GatewayError } from '../models/errors';

/** Where the OpenAI-compatible provider's API key comes from. */
export interface ApiKeySource {
  /** The key; the SDK asks before each request, so this must be cheap after the first time. */
  get(): Promise<string>;
  /** The key once known, so error messages can be scrubbed of it. */
  known(): string | undefined;
}

/** OPENAI_API_KEY, as given (locally). */
export function staticKey(key: string): ApiKeySource {
  return { get: () => Promise.resolve(key), known: () => key };
}

/** A SecretString that is the key itself, or a JSON object holding it as `apiKey` or `OPENAI_API_KEY`. */
function keyIn(secret: string): string | undefined {
  const text = secret.trim();
  if (!text.startsWith('{')) return text === '' ? undefined : text;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const value = parsed['apiKey'] ?? parsed['OPENAI_API_KEY'];
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key in a Secrets Manager secret, fetched when this is created (the worker's cold start) and
 * then cached for the life of the instance. A failed fetch is not cached: the next call tries
 * again, so a secret fixed by the operator is picked up without a redeploy. The key is never logged.
 */
export function secretsManagerKey(client: SecretsManagerClient, secretId: string): ApiKeySource {
  let key: string | undefined;
  let pending: Promise<string> | undefined;
  const load = (): Promise<string> => {
    pending ??= client
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((output) => {
        const found = output.SecretString === undefined ? undefined : keyIn(output.SecretString);
        if (found === undefined) throw new Error('the secret has no SecretString holding the key (the key itself, or JSON with "apiKey")');
        key = found;
        return found;
      })
      .catch((error: unknown) => {
        pending = undefined;
        throw new GatewayError(
          'upstream_error',
          'The gateway cannot read its API key for the OpenAI-compatible provider from AWS Secrets Manager. Operator: check that ' +
            'OPENAI_API_KEY_SECRET_ARN names a secret holding the key and that the worker may call secretsmanager:GetSecretValue on it.',
          { cause: error },
        );
      });
    return pending;
  };
  // At cold start, not at the first answer; a failure here is reported by the first call (or preflight).
  load().catch(() => undefined);
  return { get: () => (key !== undefined ? Promise.resolve(key) : load()), known: () => key };
}
