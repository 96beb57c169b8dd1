import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AppConfig } from '../config/config';
import type { JwtKeySource } from './jwt-secret';

/** Who a valid token says the caller is. */
export interface Identity {
  readonly userId: string;
}

export type TokenVerifier = (token: string) => Promise<Identity>;

/** Why a token was refused: for the log only (a client sees 401, nothing more). */
export class TokenRejected extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'TokenRejected';
  }
}

/**
 * Verifies JWTs with jose. The accepted algorithms are fixed by the key type — HS256 for a
 * shared secret, RS256/ES256 for JWKS keys — so `alg: none` and HS/RS confusion (an RS public
 * key used as an HMAC secret) are refused by construction. `exp` is required; `nbf`, `iss` and
 * `aud` are checked with a small clock tolerance. JWKS keys are fetched once and cached by jose
 * across invocations of a warm Lambda.
 */
export function createTokenVerifier(auth: AppConfig['auth'], hsKey?: JwtKeySource): TokenVerifier | undefined {
  if (auth.mode === 'none') return undefined;
  const options = {
    algorithms: auth.mode === 'hs256' ? ['HS256'] : ['RS256', 'ES256'],
    requiredClaims: ['exp', 'sub'],
    clockTolerance: auth.clockToleranceSeconds,
    ...(auth.issuer !== undefined ? { issuer: auth.issuer } : {}),
    ...(auth.audience !== undefined ? { audience: auth.audience } : {}),
  };
  const fixed = auth.jwtSecret === undefined ? undefined : new TextEncoder().encode(auth.jwtSecret);
  const keys = auth.mode === 'jwks' ? createRemoteJWKSet(new URL(auth.jwksUrl ?? '')) : undefined;
  const verify = async (token: string) => {
    if (keys !== undefined) return jwtVerify(token, keys as JWTVerifyGetKey, options);
    if (fixed !== undefined) return jwtVerify(token, fixed, options);
    if (hsKey === undefined) throw new TokenRejected('no HS256 key source');
    try {
      return await jwtVerify(token, await hsKey.get(), options);
    } catch (error) {
      // The secret may have been rotated since it was read: read it again (rate-limited) and retry once.
      if ((error as { code?: unknown }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || !(await hsKey.refresh())) throw error;
      return jwtVerify(token, await hsKey.get(), options);
    }
  };
  return async (token) => {
    try {
      const { payload } = await verify(token);
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenRejected('the token has no subject');
      return { userId: payload.sub };
    } catch (error) {
      if (error instanceof TokenRejected) throw error;
      const code = (error as { code?: unknown }).code;
      throw new TokenRejected(typeof code === 'string' ? code : 'invalid token', { cause: error });
    }
  };
}

/** The token of a $connect request: `?token=` (browsers cannot set headers) or `Authorization: Bearer`. */
export function tokenOf(
  query: Readonly<Record<string, string | undefined>> | undefined,
  headers: Readonly<Record<string, string | undefined>> | undefined,
): string | undefined {
  const fromQuery = query?.['token'];
  if (fromQuery) return fromQuery;
  const header = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}
