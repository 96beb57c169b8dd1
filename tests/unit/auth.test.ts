import { createAuthorizer, type AuthorizerEvent } from '../../src/auth/authorizer';
import { createTokenVerifier, tokenOf, type TokenVerifier } from '../../src/auth/verify';
import { loadConfig } from '../../src/config/config';
import { UNIT_ENV } from '../helpers/unit-gateway';
import { createLogger } from '../../src/utils/logger';
import { AUDIENCE, claims, hs256, ISSUER, jwksServer, SECRET, unsigned } from '../helpers/jwt';

const ENDPOINT = UNIT_ENV;
const now = () => Math.floor(Date.now() / 1000);

function verifier(env: Record<string, string>): TokenVerifier {
  const verify = createTokenVerifier(loadConfig({ ...ENDPOINT, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, ...env }).auth);
  if (!verify) throw new Error('auth not configured');
  return verify;
}

describe('JWT verification (HS256, shared secret)', () => {
  const verify = verifier({ AUTH_JWT_SECRET: SECRET });

  it('accepts a valid token and names its subject', async () => {
    expect((await verify(await hs256())).userId).toBe('user-42');
  });

  it.each<[string, () => Promise<string> | string, RegExp]>([
    ['a forged signature', () => hs256(claims(), 'another-secret-0123456789abcdef-0123'), /SIGNATURE/],
    ['alg: none', () => unsigned(), /ALG|INVALID/],
    ['an expired token', () => hs256(claims({ exp: now() - 120 })), /EXPIRED/],
    ['a token not yet valid', () => hs256(claims({ nbf: now() + 600 })), /CLAIM/],
    ['the wrong issuer', () => hs256(claims({ iss: 'https://evil.test' })), /CLAIM/],
    ['the wrong audience', () => hs256(claims({ aud: 'someone-else' })), /CLAIM/],
    ['no expiry', () => hs256({ sub: 'u', iss: ISSUER, aud: AUDIENCE }), /CLAIM/],
    ['a malformed token', () => 'not.a.jwt', /INVALID/],
    ['garbage', () => '%%%', /INVALID/],
  ])('rejects %s', async (_name, make, reason) => {
    await expect(verify(await make())).rejects.toThrow(reason);
  });

  it('tolerates a small clock skew', async () => {
    expect((await verify(await hs256(claims({ exp: now() - 10 })))).userId).toBe('user-42');
  });

  it('refuses to start with a short secret or two key sources', () => {
    expect(() => loadConfig({ ...ENDPOINT, AUTH_JWT_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => loadConfig({ ...ENDPOINT, AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://x/jwks' })).toThrow(/not several/);
  });
});

describe('JWT verification (RS256/ES256 through JWKS)', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let verify: TokenVerifier;
  beforeAll(async () => {
    jwks = await jwksServer();
    verify = verifier({ AUTH_JWKS_URL: jwks.url });
  });
  afterAll(() => jwks.stop());

  it('accepts RS256 and ES256 tokens, fetching the keys once', async () => {
    expect((await verify(await jwks.rs256())).userId).toBe('user-42');
    expect((await verify(await jwks.es256(claims({ sub: 'user-43' })))).userId).toBe('user-43');
    expect(jwks.fetches()).toBe(1);
  });

  it('rejects HS/RS confusion: an HMAC made with the public key', async () => {
    await expect(verify(await jwks.confused())).rejects.toThrow();
  });

  it('rejects an HS256 token and alg: none', async () => {
    await expect(verify(await hs256())).rejects.toThrow();
    await expect(verify(unsigned())).rejects.toThrow();
  });
});

describe('the $connect authorizer', () => {
  const authorize = createAuthorizer(verifier({ AUTH_JWT_SECRET: SECRET }), createLogger('silent'));
  const event = (query?: Record<string, string>, headers?: Record<string, string>): AuthorizerEvent => ({
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc/prod/$connect',
    ...(query ? { queryStringParameters: query } : {}),
    ...(headers ? { headers } : {}),
  });

  it('allows a valid token on the $connect method ARN with the userId as context', async () => {
    const result = await authorize(event({ token: await hs256() }));
    expect(result).toEqual({
      principalId: 'user-42',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc/prod/$connect' }],
      },
      context: { userId: 'user-42' },
    });
  });

  it('takes the token from Authorization: Bearer for server clients', async () => {
    expect((await authorize(event(undefined, { Authorization: `Bearer ${await hs256()}` }))).principalId).toBe('user-42');
  });

  it('throws Unauthorized for a missing or bad token', async () => {
    await expect(authorize(event())).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize(event({ token: unsigned() }))).rejects.toThrow(/^Unauthorized$/);
  });

  it('reads tokens from the query first, then a Bearer header of any casing', () => {
    expect(tokenOf({ token: 'q' }, { authorization: 'Bearer h' })).toBe('q');
    expect(tokenOf(undefined, { AUTHORIZATION: 'bearer h' })).toBe('h');
    expect(tokenOf(undefined, { Authorization: 'Basic abc' })).toBeUndefined();
  });
});
