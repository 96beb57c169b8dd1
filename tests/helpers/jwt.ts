import http from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export const SECRET = 'test-secret-0123456789abcdef-0123456789';
export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'ws-gateway';

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function claims(extra: JWTPayload = {}): JWTPayload {
  return { sub: 'user-42', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600, ...extra };
}

export function hs256(payload: JWTPayload = claims(), secret = SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

/** A token with `alg: none` and no signature. */
export function unsigned(payload: JWTPayload = claims()): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** A JWKS endpoint on loopback serving one RS256 and one ES256 public key. */
export async function jwksServer() {
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  let fetches = 0;
  const server = http.createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/.well-known/jwks.json`,
    fetches: () => fetches,
    rs256: (payload: JWTPayload = claims()) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsa.privateKey),
    es256: (payload: JWTPayload = claims()) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ec.privateKey),
    /** HS/RS confusion: an HMAC signed with the RSA *public* key as the secret. */
    confused: async (payload: JWTPayload = claims()) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(new TextEncoder().encode(await exportSPKI(rsa.publicKey))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
