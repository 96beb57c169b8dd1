import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rotatingKey, type JwtKeySource } from './jwt-secret';

/**
 * The authorizer's HS256 key from a Secrets Manager secret, through the SDK. Its own module, required
 * only when AUTH_JWT_SECRET_ARN is set: the bundler then evaluates the SDK on demand, so an
 * authorizer on a JWKS URL never pays for it (docs/BENCHMARKS.md, the authorizer's cold start).
 */
export function secretsManagerJwtKey(secretId: string, ttlMs: number, client: SecretsManagerClient = new SecretsManagerClient({})): JwtKeySource {
  return rotatingKey(async () => {
    const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (output.SecretString === undefined) throw new Error('the secret has no SecretString');
    return output.SecretString;
  }, { ttlMs });
}
