import { createAuthorizer, UNAUTHORIZED, type AuthorizerEvent, type AuthorizerResult } from './auth/authorizer';
import type { JwtKeySource } from './auth/jwt-secret';
import type * as SecretsManagerKey from './auth/secrets-manager-key';
import { createTokenVerifier } from './auth/verify';
import { loadAuthConfig } from './config/config';
import { createLogger } from './utils/logger';

/*
 * The $connect REQUEST authorizer's Lambda entry, bundled on its own: every new connection waits
 * for it, so it carries jose and the logger, not the app or Fastify; the Secrets Manager client
 * is evaluated only with AUTH_JWT_SECRET_ARN (see docs/BENCHMARKS.md, "Cold start"). Config is
 * read at import and a bad one fails the init.
 */
const { auth, logLevel } = loadAuthConfig(process.env);
const log = createLogger(logLevel).child({ component: 'authorizer' });

/** The HS256 key from AUTH_JWT_SECRET_ARN, read through the SDK, which is evaluated only then. */
function keyFromSecret(secretId: string): JwtKeySource {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const source = require('./auth/secrets-manager-key') as typeof SecretsManagerKey;
  return source.secretsManagerJwtKey(secretId, auth.jwtSecretTtlSeconds * 1000);
}

const verify = createTokenVerifier(auth, auth.jwtSecretArn === undefined ? undefined : keyFromSecret(auth.jwtSecretArn));
const authorize = verify ? createAuthorizer(verify, log) : undefined;

/**
 * Without AUTH_JWT_SECRET, AUTH_JWT_SECRET_ARN or AUTH_JWKS_URL it refuses every connection: an
 * authorizer that is deployed but not configured fails closed.
 */
export const authorizer = async (event: AuthorizerEvent): Promise<AuthorizerResult> => {
  if (!authorize) throw new Error(UNAUTHORIZED);
  return authorize(event);
};
