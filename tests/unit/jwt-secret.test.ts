import { SignJWT } from 'jose';
import type { AppConfig } from '../../src/config/config';
import { rotatingKey } from '../../src/auth/jwt-secret';
import { createTokenVerifier } from '../../src/auth/verify';

const KEY_A = 'the first key of the authorizer, 32+ bytes';
const KEY_B = 'the rotated key of the authorizer, 32+ bytes';
const AUTH: AppConfig['auth'] = {
  mode: 'hs256',
  jwtSecret: undefined,
  jwtSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf',
  jwtSecretTtlSeconds: 300,
  jwksUrl: undefined,
  issuer: undefined,
  audience: undefined,
  clockToleranceSeconds: 0,
};
const token = (key: string, sub = 'alice'): Promise<string> =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('10m').sign(new TextEncoder().encode(key));

describe('the authorizer\'s key from Secrets Manager: read at cold start, kept for a TTL, rotation without a redeploy', () => {
  let secret: string;
  let reads: number;
  let now: number;
  const read = (): Promise<string> => {
    reads += 1;
    return Promise.resolve(secret);
  };
  beforeEach(() => {
    secret = KEY_A;
    reads = 0;
    now = 1_000_000;
  });

  it('reads the key once at creation and then serves it from memory for the TTL', async () => {
    const source = rotatingKey(read, { ttlMs: 300_000, now: () => now });
    const verify = createTokenVerifier(AUTH, source)!;
    for (let i = 0; i < 5; i += 1) await expect(verify(await token(KEY_A))).resolves.toEqual({ userId: 'alice' });
    expect(reads).toBe(1);
    now += 300_001;
    await verify(await token(KEY_A));
    expect(reads).toBe(2);
  });

  it('accepts tokens of a rotated key at once (one read on the first unknown signature), and then no longer the old key', async () => {
    const source = rotatingKey(read, { ttlMs: 300_000, refreshFloorMs: 10_000, now: () => now });
    const verify = createTokenVerifier(AUTH, source)!;
    await verify(await token(KEY_A));
    secret = KEY_B;
    now += 20_000;
    await expect(verify(await token(KEY_B, 'bob'))).resolves.toEqual({ userId: 'bob' });
    expect(reads).toBe(2);
    await expect(verify(await token(KEY_A))).rejects.toMatchObject({ name: 'TokenRejected' });
    // A forged signature cannot make it read the secret again and again: at most once per floor.
    for (let i = 0; i < 5; i += 1) await expect(verify(await token('a forged key of thirty-two bytes or more'))).rejects.toMatchObject({ name: 'TokenRejected' });
    expect(reads).toBe(2);
  });

  it('does not keep a failed read, and refuses a key shorter than 32 bytes', async () => {
    let fail = true;
    const flaky = rotatingKey(() => (fail ? Promise.reject(new Error('throttled')) : Promise.resolve(KEY_A)), { ttlMs: 300_000 });
    const verify = createTokenVerifier(AUTH, flaky)!;
    await expect(verify(await token(KEY_A))).rejects.toMatchObject({ name: 'TokenRejected' });
    fail = false;
    await expect(verify(await token(KEY_A))).resolves.toEqual({ userId: 'alice' });
    const short = rotatingKey(() => Promise.resolve('too short'), { ttlMs: 300_000 });
    await expect(short.get()).rejects.toThrow(/32 bytes/);
    const json = rotatingKey(() => Promise.resolve(JSON.stringify({ secret: KEY_B })), { ttlMs: 300_000 });
    await expect(createTokenVerifier(AUTH, json)!(await token(KEY_B))).resolves.toEqual({ userId: 'alice' });
  });
});
