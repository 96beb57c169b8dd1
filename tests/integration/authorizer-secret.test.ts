import { spawn } from 'node:child_process';
import { SignJWT } from 'jose';
import { SecretsStandIn } from '../helpers/secrets-standin';

/**
 * The authorizer entry as Lambda runs it, in a fresh process, with AUTH_JWT_SECRET_ARN: the real
 * Secrets Manager client reads the key from a stand-in that speaks its wire protocol (signed
 * requests), once, and the key never appears in the function's configuration.
 */
describe('the $connect authorizer with its HS256 key in Secrets Manager', () => {
  const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf';
  const KEY = 'the authorizer key held in Secrets Manager, 32+ bytes';
  let secrets: SecretsStandIn;
  beforeAll(async () => {
    secrets = await new SecretsStandIn(new Map([[ARN, KEY]])).start();
  });
  afterAll(() => secrets.stop());

  /** Runs the entry with `tokens` as $connect events; returns each one's outcome. */
  async function connectWith(tokens: string[]): Promise<string[]> {
    const script = `
      const { authorizer } = require('./src/authorizer');
      (async () => {
        for (const token of ${JSON.stringify(tokens)}) {
          const event = { type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:1:a/prod/$connect', queryStringParameters: { token } };
          try { const r = await authorizer(event); console.log('allow ' + r.principalId); } catch (e) { console.log('refuse ' + e.message); }
        }
        process.exit(0); // the SDK's keep-alive socket would hold the process open
      })();`;
    // Not spawnSync: the stand-in serves from this process, which must keep running meanwhile.
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      env: {
        PATH: process.env['PATH'] ?? '',
        LOG_LEVEL: 'silent',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AUTH_JWT_SECRET_ARN: ARN,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    return stdout.trim().split('\n');
  }

  it('reads the key once, signed, and lets in tokens it signed, not others', async () => {
    secrets.calls.length = 0;
    const sign = (key: string, sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(key));
    const outcomes = await connectWith([await sign(KEY, 'alice'), await sign(KEY, 'bob'), await sign('some other key of thirty-two bytes', 'eve')]);
    expect(outcomes).toEqual(['allow alice', 'allow bob', 'refuse Unauthorized']);
    expect(secrets.calls.filter((c) => c.secretId === ARN)).toHaveLength(1);
    expect(secrets.calls.every((c) => c.signed && c.target === 'secretsmanager.GetSecretValue')).toBe(true);
  }, 30_000);
});
