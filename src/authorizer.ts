import { createAuthorizer, UNAUTHORIZED, type AuthorizerEvent, type AuthorizerResult } from './auth/authorizer';
import { createTokenVerifier } from './auth/verify';
import { loadAuthConfig } from './config/config';
import { createLogger } from './utils/logger';

/*
 * The $connect REQUEST authorizer's Lambda entry, bundled on its own: every new connection waits
 * for it, so it carries jose and the logger, not the app, Fastify or the AWS SDK (see
 * docs/BENCHMARKS.md, "Cold start"). Config is read at import and a bad one fails the init.
 */
const { auth, logLevel } = loadAuthConfig(process.env);
const verify = createTokenVerifier(auth);
const authorize = verify ? createAuthorizer(verify, createLogger(logLevel).child({ component: 'authorizer' })) : undefined;

/**
 * Without AUTH_JWT_SECRET or AUTH_JWKS_URL it refuses every connection: an authorizer that is
 * deployed but not configured fails closed.
 */
export const authorizer = async (event: AuthorizerEvent): Promise<AuthorizerResult> => {
  if (!authorize) throw new Error(UNAUTHORIZED);
  return authorize(event);
};
