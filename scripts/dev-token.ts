/**
 * `npm run token [-- --sub alice --ttl 3600]`: mints an HS256 JWT for local development with
 * AUTH_JWT_SECRET (plus AUTH_ISSUER / AUTH_AUDIENCE when set), for the chat page's Token field.
 */
import { SignJWT } from 'jose';
import { loadAuthConfig } from '../src/config/config';

async function main(): Promise<void> {
  // Only what a token needs (the authorizer's own reader): no table, queue or endpoint settings.
  const { auth } = loadAuthConfig(process.env);
  if (auth.mode !== 'hs256' || auth.jwtSecret === undefined) {
    throw new Error('set AUTH_JWT_SECRET (32+ bytes) to the value the local server uses');
  }
  const arg = (name: string, fallback: string): string => {
    const at = process.argv.indexOf(`--${name}`);
    return at !== -1 && process.argv[at + 1] ? (process.argv[at + 1] as string) : fallback;
  };
  const ttl = Number(arg('ttl', '3600'));
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(arg('sub', 'dev-user'))
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt = jwt.setAudience(auth.audience);
  process.stdout.write(`${await jwt.sign(new TextEncoder().encode(auth.jwtSecret))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
