import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import connectFixture from '../fixtures/events/connect.json';
import { buildMetadata, type BuildMetadata } from '../helpers/cfn';
import { sqsRecord } from '../helpers/direct-queue';
import { BUNDLE_OPTIONS, ENTRIES, EXTERNAL } from '../../scripts/bundle';

type Bundle = {
  handler?: (e: unknown) => Promise<{ statusCode: number }>;
  worker?: (e: unknown) => Promise<{ batchItemFailures: unknown[] }>;
  authorizer?: (e: unknown) => Promise<unknown>;
};

describe('the Lambda bundles (esbuild, as npm run build and SAM make them)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    await build({ ...BUNDLE_OPTIONS, entryPoints: ENTRIES, outdir: dir, logLevel: 'silent' });
    Object.assign(process.env, {
      MANAGEMENT_API_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod',
      JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
      LOG_LEVEL: 'silent',
    });
  });

  it('leaves out the packages no Lambda invocation reaches, and runs where they cannot be found', () => {
    const code = readFileSync(join(dir, 'api.js'), 'utf8');
    for (const name of EXTERNAL.filter((n) => n.startsWith('@fastify/'))) expect(code).toContain(`require("${name}")`);
    // The bundles run below from a directory with no node_modules: the app must not require
    // Fastify's compilers (it gives its own factory), or loading api.js would throw.
    const resolve = createRequire(join(dir, 'api.js'));
    for (const name of EXTERNAL) expect(() => resolve.resolve(name)).toThrow(/Cannot find module/);
  });

  it('api exports the integration handler alone, serves a CONNECT event, and carries no Bedrock client', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(dir, 'api.js')) as Bundle;
    expect(Object.keys(bundle)).toEqual(['handler']);
    expect((await bundle.handler!(connectFixture)).statusCode).toBe(200);
    const code = readFileSync(join(dir, 'api.js'), 'utf8');
    expect(code).toMatch(/FST_ERR_/); // the marker below is meaningful: Fastify's error codes are kept
    expect(code).not.toMatch(/ConverseStream/);
    expect(code).not.toMatch(/x-stainless-/i); // the OpenAI SDK's request headers: the route function calls no model
    // Tokens are verified by the authorizer function: no JWT library here.
    expect(code).not.toMatch(/ERR_JWS_INVALID/);
    // Within its 1 MB budget (docs/BENCHMARKS.md): the S3 client comes from the runtime, required on first use.
    expect(statSync(join(dir, 'api.js')).size).toBeLessThanOrEqual(1024 * 1024);
    expect(code).toContain('require("@aws-sdk/client-s3")');
  });

  it('jobs exports the worker alone, reports a message that is not a job back to SQS, and carries no SQS client', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(dir, 'jobs.js')) as Bundle;
    expect(Object.keys(bundle)).toEqual(['worker']);
    expect((await bundle.worker!({ Records: [sqsRecord('{}', 1, 'm-1')] })).batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    const code = readFileSync(join(dir, 'jobs.js'), 'utf8');
    expect(code).not.toMatch(/SendMessageCommand/);
    expect(code).toMatch(/x-stainless-/i); // the OpenAI SDK is in, evaluated only when a model is served by it
    // The worker serves no route: no Fastify (its error codes) and no JWT library.
    expect(code).not.toMatch(/FST_ERR_/);
    expect(code).not.toMatch(/ERR_JWS_INVALID/);
  });

  it('targets the oldest Node the bundles run on (this one runs them), writing the very bytes a node24 target writes for nodejs24.x', async () => {
    const target = String(BUNDLE_OPTIONS.target);
    expect(target).toMatch(/^node\d+$/);
    // The machine running the tests (and the bench) is at least that Node, so what is tested runs here.
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(Number(target.slice('node'.length)));
    // esbuild's target only decides what syntax it rewrites for older engines: none, for this code,
    // so Lambda's Node 24 runs exactly what a node24 target would have given it.
    const forLambda = await build({ ...BUNDLE_OPTIONS, target: 'node24', entryPoints: ENTRIES, outdir: dir, write: false, logLevel: 'silent' });
    expect(forLambda.outputFiles.length).toBe(Object.keys(ENTRIES).length);
    for (const file of forLambda.outputFiles) {
      expect({ file: file.path, same: Buffer.compare(Buffer.from(file.contents), readFileSync(file.path)) === 0 }).toEqual({ file: file.path, same: true });
    }
  });

  it('exports promise-returning handlers that take no callback, the only kind nodejs24.x runs', async () => {
    const exported = (['api.js', 'jobs.js', 'authorizer.js'] as const).flatMap((file) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundle = require(join(dir, file)) as Record<string, (...args: unknown[]) => unknown>;
      return Object.entries(bundle).map(([name, fn]) => ({ file, name, fn }));
    });
    expect(exported.map(({ file, name }) => `${file}:${name}`)).toEqual(['api.js:handler', 'jobs.js:worker', 'authorizer.js:authorizer']);
    const events: Record<string, unknown> = { handler: connectFixture, worker: { Records: [] }, authorizer: { type: 'REQUEST', methodArn: 'arn:x' } };
    for (const { file, name, fn } of exported) {
      // A callback-style handler is one of three parameters that is not async (the runtime's test).
      expect({ file, name, parameters: fn.length <= 2 }).toEqual({ file, name, parameters: true });
      const result = fn(events[name], {});
      expect({ file, name, promise: typeof (result as Promise<unknown> | undefined)?.then }).toEqual({ file, name, promise: 'function' });
      await (result as Promise<unknown>).catch(() => undefined);
    }
  });

  it('authorizer exports the $connect authorizer alone, fails closed unconfigured, and carries no app', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(dir, 'authorizer.js')) as Bundle;
    expect(Object.keys(bundle)).toEqual(['authorizer']);
    await expect(bundle.authorizer!({ type: 'REQUEST', methodArn: 'arn:x', queryStringParameters: { token: 'x' } })).rejects.toThrow('Unauthorized');
    expect(readFileSync(join(dir, 'authorizer.js'), 'utf8')).toMatch(/ERR_JWS_INVALID/); // jose's marker, kept in a bundle
    // Every connection waits on this function's cold start: no Fastify, no AWS SDK in it.
    expect(statSync(join(dir, 'authorizer.js')).size).toBeLessThan(statSync(join(dir, 'api.js')).size / 8);
  });
});

/**
 * What `sam build` bundles for a function, as aws-lambda-builders' esbuild workflow calls esbuild
 * (workflows/nodejs_npm_esbuild/esbuild.py): --bundle --platform=node --format=cjs (its default)
 * and the function's BuildProperties — Minify, Target, External, EntryPoints, Sourcemap (a
 * separate .map file beside the bundle). Its build folder is what `sam deploy` zips.
 */
function samEsbuildOptions(metadata: BuildMetadata, outdir: string): BuildOptions {
  const properties = metadata.BuildProperties ?? {};
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: properties['Minify'] as boolean,
    target: properties['Target'] as string,
    external: properties['External'] as string[],
    entryPoints: properties['EntryPoints'] as string[],
    sourcemap: properties['Sourcemap'] === true,
    outdir,
    logLevel: 'silent',
  };
}

/**
 * The size of the zip of a build folder as SAM CLI makes it (samcli/lib/package/utils.py, Python's
 * zipfile, deflated, no extra field): a local header (30 bytes and the name) and a central
 * directory entry (46 and the name) per file, the deflated bytes, the end record (22). Node's
 * zlib deflates a little differently from Python's: within 1% of what SAM CLI uploads.
 */
function zipBytes(dir: string): { bytes: number; files: Record<string, number> } {
  const files = Object.fromEntries(readdirSync(dir).sort().map((name) => [name, deflateRawSync(readFileSync(join(dir, name))).length]));
  const bytes = Object.entries(files).reduce((total, [name, deflated]) => total + 76 + 2 * Buffer.byteLength(name) + deflated, 22);
  return { bytes, files };
}

describe('what `sam build` puts in each function’s zip (esbuild as SAM calls it, from the template’s Metadata)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sam-zip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ships no source map unless EnableSourceMaps=true asks sam build for one, and the map would be most of the zip', async () => {
    const functions = Object.entries(buildMetadata()).filter(([, m]) => m.BuildMethod === 'esbuild');
    expect(functions.map(([name]) => name).sort()).toEqual(['ApiFunction', 'AuthorizerFunction', 'WorkerFunction']);
    for (const [name, metadata] of functions) {
      // As the template is written (EnableSourceMaps=false, the default): no Sourcemap, so no .map.
      const plain = join(dir, name);
      await build(samEsbuildOptions(metadata, plain));
      const shipped = zipBytes(plain);
      expect({ name, files: Object.keys(shipped.files) }).toEqual({ name, files: [expect.stringMatching(/^\w+\.js$/)] });
      // With EnableSourceMaps=true, SAM CLI adds Sourcemap: true (the template test shows when): the
      // .map beside the bundle, 75-80% of the zip (docs/DEPLOYING.md has the sizes).
      const mapped = join(dir, `${name}-maps`);
      await build(samEsbuildOptions({ ...metadata, BuildProperties: { ...metadata.BuildProperties, Sourcemap: true } }, mapped));
      const withMaps = zipBytes(mapped);
      const map = Object.entries(withMaps.files).find(([file]) => file.endsWith('.js.map'));
      expect({ name, map: map !== undefined }).toEqual({ name, map: true });
      expect({ name, mapMostOfTheZip: map![1] > withMaps.bytes / 2 }).toEqual({ name, mapMostOfTheZip: true });
      expect(shipped.bytes).toBeLessThan(withMaps.bytes - map![1] + 1024);
    }
  }, 60_000);
});
