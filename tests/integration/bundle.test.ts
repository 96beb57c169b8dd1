import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import connectFixture from '../fixtures/events/connect.json';

describe('the Lambda bundle (esbuild, as npm run build and SAM make it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports handler and authorizer, and the handler serves a CONNECT event', async () => {
    const outfile = join(dir, 'index.js');
    await build({ entryPoints: ['src/index.ts'], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, logLevel: 'silent' });
    Object.assign(process.env, { MANAGEMENT_API_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod', JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs', LOG_LEVEL: 'silent' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(outfile) as { handler: (e: unknown) => Promise<{ statusCode: number }>; authorizer: (e: unknown) => Promise<unknown> };
    expect(typeof bundle.handler).toBe('function');
    expect(typeof bundle.authorizer).toBe('function');
    expect((await bundle.handler(connectFixture)).statusCode).toBe(200);
    // No auth configured: a deployed authorizer fails closed.
    await expect(bundle.authorizer({ type: 'REQUEST', methodArn: 'arn:x', queryStringParameters: { token: 'x' } })).rejects.toThrow('Unauthorized');
  });
});
