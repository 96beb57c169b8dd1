import { spawnSync } from 'node:child_process';
import { jwtVerify } from 'jose';

/** `npm run token` (docs/AUTHENTICATION.md) with nothing set but the secret, as a developer runs it. */
describe('npm run token', () => {
  const SECRET = 'a development secret of at least thirty-two bytes';
  const run = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dev-token.ts', ...args], {
      encoding: 'utf8',
      // Only what a shell has, and the variables the doc sets: no table, queue or endpoint.
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    });

  it('mints an HS256 token the local authorizer accepts, with the subject and lifetime asked for', async () => {
    const result = run({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: 'https://issuer.test', AUTH_AUDIENCE: 'gateway' }, '--sub', 'alice', '--ttl', '600');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const { payload, protectedHeader } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(SECRET), { issuer: 'https://issuer.test', audience: 'gateway' });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('alice');
    expect(Number(payload.exp) - Number(payload.iat)).toBe(600);
  });

  it('says what to set when the secret is missing or too short', () => {
    for (const env of [{}, { AUTH_JWT_SECRET: 'short' }] as Array<Record<string, string>>) {
      const result = run(env);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/AUTH_JWT_SECRET/);
    }
  });
});
