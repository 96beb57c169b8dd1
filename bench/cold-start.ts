import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { SignJWT } from 'jose';
import disconnectFixture from '../tests/fixtures/events/disconnect.json';
import { kib, ms } from './format';
import { percentile } from './load-client';
import { measureWarm, type WarmOverhead } from './warm-overhead';
import { BUNDLE_OPTIONS, ENTRIES } from '../scripts/bundle';

export interface BundleStart {
  readonly name: string;
  readonly bytes: number;
  /** Median time to `require` the bundle, inside a fresh process. */
  readonly loadMs: number;
  /** Median time from `require` to the end of the first invocation. */
  readonly firstInvocationMs: number;
  /** Median wall time of the whole process (spawn to exit). */
  readonly processMs: number;
}

export interface ColdStartResults {
  readonly runs: number;
  readonly nodeBareProcessMs: number;
  readonly bundles: readonly BundleStart[];
  readonly warm: WarmOverhead;
}

/** The route function's parts, each bundled and started alone: where its cold start goes. */
const PARTS = {
  'part-fastify': 'bench/cold-parts/fastify.ts',
  'part-sdk': 'bench/cold-parts/sdk-clients.ts',
  'part-logger': 'bench/cold-parts/logger-schemas.ts',
} as const;

const SECRET = 'a benchmark secret of at least thirty-two bytes!';
const RUNS = 15;

function spawnTimed(args: string[], env: NodeJS.ProcessEnv): { wallMs: number; stdout: string } {
  // args may start with node flags (e.g. --enable-source-maps)
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`child failed: ${result.stderr}`);
  return { wallMs: performance.now() - started, stdout: result.stdout };
}

/**
 * Bundles the two real entries and a bare handler as `npm run build` does, then starts each in
 * fresh Node processes: size, `require` time, time to the end of the first invocation, process
 * wall time, next to `node -e 0`. Then the warm cost of one invocation through the Fastify adapter.
 */
export async function measureColdStart(): Promise<ColdStartResults> {
  const dir = mkdtempSync(join(tmpdir(), 'cold-'));
  try {
    await build({ ...BUNDLE_OPTIONS, entryPoints: { ...ENTRIES, bare: 'bench/bare-handler.ts', ...PARTS }, outdir: dir, logLevel: 'silent' });
    // The same app bundle with its source map, started with --enable-source-maps, as the
    // template's EnableSourceMaps=true runs it.
    await build({ ...BUNDLE_OPTIONS, entryPoints: { 'api-maps': ENTRIES.api }, outdir: dir, sourcemap: true, logLevel: 'silent' });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
    // The authorizer again, reading its key from Secrets Manager (AUTH_JWT_SECRET_ARN): the client
    // it requires then is the runtime's own SDK in Lambda (NODE_PATH there, node_modules here).
    // Only its load is measured: the first invocation waits on the secret's fetch, a network call.
    await build({ ...BUNDLE_OPTIONS, entryPoints: { 'authorizer-secret': ENTRIES.authorizer }, outdir: dir, logLevel: 'silent' });
    const events: Record<string, { entry: string; event: unknown; flags?: string[]; env?: Record<string, string | undefined>; loadOnly?: boolean }> = {
      api: { entry: 'handler', event: disconnectFixture },
      'api-maps': { entry: 'handler', event: disconnectFixture, flags: ['--enable-source-maps'] },
      // A record that is not a job: parsed, refused, reported — the worker's path without a model call.
      jobs: { entry: 'worker', event: { Records: [{ messageId: 'm', body: '{}', attributes: { ApproximateReceiveCount: '1' } }] } },
      authorizer: { entry: 'authorizer', event: { type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:1:a/prod/$connect', queryStringParameters: { token } } },
      'authorizer-secret': {
        entry: 'authorizer',
        event: {},
        loadOnly: true,
        env: {
          AUTH_JWT_SECRET: undefined,
          AUTH_JWT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'bench',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
          NODE_PATH: join(process.cwd(), 'node_modules'),
        },
      },
      bare: { entry: 'handler', event: {} },
      ...Object.fromEntries(Object.keys(PARTS).map((name) => [name, { entry: 'handler', event: {} }])),
    };
    const env = {
      ...process.env,
      MANAGEMENT_API_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod',
      JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
      AUTH_JWT_SECRET: SECRET,
      LOG_LEVEL: 'silent',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const nodeBare = Array.from({ length: RUNS }, () => spawnTimed(['-e', '0'], env).wallMs);
    const bundles: BundleStart[] = [];
    for (const [name, { entry, event, flags = [], env: own = {}, loadOnly = false }] of Object.entries(events)) {
      const file = join(dir, `${name}.js`);
      const eventFile = join(dir, `${name}.event.json`);
      writeFileSync(eventFile, JSON.stringify(event));
      const script = loadOnly
        ? `const t0=performance.now();require(${JSON.stringify(file)});const t1=performance.now();process.stdout.write(JSON.stringify({load:t1-t0,first:NaN}));process.exit(0);`
        : `const t0=performance.now();const m=require(${JSON.stringify(file)});const t1=performance.now();` +
          `m.${entry}(require(${JSON.stringify(eventFile)})).then(()=>{process.stdout.write(JSON.stringify({load:t1-t0,first:performance.now()-t0}))},(e)=>{process.stderr.write(String(e));process.exit(1)});`;
      const runEnv = Object.fromEntries(Object.entries({ ...env, ...own }).filter(([, v]) => v !== undefined));
      const samples = Array.from({ length: RUNS }, () => {
        const { wallMs, stdout } = spawnTimed([...flags, '-e', script], runEnv);
        const { load, first } = JSON.parse(stdout) as { load: number; first: number };
        return { wallMs, load, first };
      });
      bundles.push({
        name,
        bytes: statSync(file).size,
        loadMs: percentile(samples.map((s) => s.load), 50),
        firstInvocationMs: percentile(samples.map((s) => s.first), 50),
        processMs: percentile(samples.map((s) => s.wallMs), 50),
      });
    }
    return { runs: RUNS, nodeBareProcessMs: percentile(nodeBare, 50), bundles, warm: await measureWarm() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A bundle's require + first invocation against the bare handler's. */
export function coldRatio(cold: ColdStartResults, name: string): number {
  const of = (n: string): number => cold.bundles.find((b) => b.name === n)!.firstInvocationMs;
  return of(name) / of('bare');
}

/** The report's section on cold starts: each bundle against the bare handler, and warm overhead. */
export function coldStartSection(cold: ColdStartResults): string[] {
  const byName = Object.fromEntries(cold.bundles.map((b) => [b.name, b]));
  return [
    '## Cold start and warm overhead',
    '',
    `Each bundle is built as \`npm run build\` builds it (esbuild, minified, CommonJS, node20) and started`,
    `${cold.runs} times in a fresh \`node\` process: \`require\` time and time to the end of a first invocation`,
    '(api: a `$disconnect` on the memory store; jobs: a queue record that is not a job; authorizer: an HS256 token verified; bare: returns',
    '200), measured inside the process, and the wall time of the whole process. Bare is the least a',
    'WebSocket Lambda can be: the management client and a handler (`bench/bare-handler.ts`).',
    '',
    '| bundle | size | require (median) | to end of first invocation | process wall time |',
    '|---|---|---|---|---|',
    ...['api', 'api-maps', 'jobs', 'authorizer', 'authorizer-secret', 'bare'].map((name) => {
      const b = byName[name]!;
      const labels: Record<string, string> = {
        api: '`api.js` (the route function)',
        'api-maps': '`api.js` with `--enable-source-maps` (`EnableSourceMaps=true`)',
        jobs: '`jobs.js` (the worker)',
        authorizer: '`authorizer.js` ($connect)',
        'authorizer-secret': '`authorizer.js` with `AUTH_JWT_SECRET_ARN` (the Secrets Manager client from node_modules, as Lambda\'s runtime SDK; load only)',
        bare: 'bare handler',
      };
      const label = labels[name]!;
      return `| ${label} | ${kib(b.bytes)} | ${ms(b.loadMs)} | ${Number.isNaN(b.firstInvocationMs) ? '—' : ms(b.firstInvocationMs)} | ${ms(b.processMs)} |`;
    }),
    `| \`node -e 0\` | — | — | — | ${ms(cold.nodeBareProcessMs)} |`,
    '',
    `Warm: one \`ping\` through the whole adapter (event → \`@fastify/aws-lambda\` → Fastify route → handler →`,
    `sender, no network), ${cold.warm.invocations} invocations after 1,000 warm-up: median ${cold.warm.medianUs.toFixed(1)} µs, p99 ${cold.warm.p99Us.toFixed(1)} µs;`,
    `the floor (parse the frame, build the pong) is ${cold.warm.bareMedianUs.toFixed(1)} µs. A warm invocation pays tens of`,
    'microseconds for the adapter: nothing next to one `PostToConnection`.',
    '',
    `The authorizer's key from Secrets Manager (\`AuthJwtSecretArn\`): the client stays out of the bundle and is loaded`,
    `only then, adding ${ms(byName['authorizer-secret']!.loadMs - byName['authorizer']!.loadMs)} to the authorizer's load, once per instance (docs/DESIGN.md, "The authorizer's key").`,
    '',
    `Source maps: \`--enable-source-maps\` adds ${ms(byName['api-maps']!.firstInvocationMs - byName['api']!.firstInvocationMs)} to the first invocation (the map is parsed at`,
    'load), so the template leaves it off by default (`EnableSourceMaps=false`) and builds no map unless it is on (docs/DEPLOYING.md).',
    '',
    `One bundle per function. The route function: ${kib(byName['api']!.bytes)} (target ≤ 1 MB), require + first invocation`,
    `${coldRatio(cold, 'api').toFixed(2)}× the bare handler's (target ≤ 2×); the worker: ${coldRatio(cold, 'jobs').toFixed(2)}× (target ≤ 2.5×, ${kib(byName['jobs']!.bytes)}).`,
    '',
    '### Where the route function\'s cold start goes',
    '',
    'Its parts, each bundled with the same settings and started alone in fresh processes the same way',
    '(`bench/cold-parts/`); each part also pays for what it shares with the others (Node\'s module loading, the',
    'SDK\'s core for the clients), so they overlap and do not add up exactly to the whole:',
    '',
    '| part | size | require + first invocation |',
    '|---|---|---|',
    ...[
      ['part-fastify', 'Fastify, `@fastify/aws-lambda`, one route, booted'],
      ['part-sdk', 'the DynamoDB (document), SQS and management API clients'],
      ['part-logger', 'pino as configured, the protocol\'s TypeBox schemas, one compiled check'],
      ['bare', 'bare handler (the management API client alone)'],
      ['api', 'the whole route function'],
    ].map(([name, label]) => `| ${label} | ${kib(byName[name!]!.bytes)} | ${ms(byName[name!]!.firstInvocationMs)} |`),
    '',
    `The bare handler already pays the SDK's core (${ms(byName['bare']!.firstInvocationMs)}); two more clients add`,
    `${ms(byName['part-sdk']!.firstInvocationMs - byName['bare']!.firstInvocationMs)}, and Fastify alone costs ${ms(byName['part-fastify']!.firstInvocationMs)} — ${byName['part-fastify']!.firstInvocationMs > byName['bare']!.firstInvocationMs ? 'more than' : 'most of'} the whole 2× budget leaves`,
    `(${ms(byName['bare']!.firstInvocationMs)} above the bare handler). So with Fastify, which the design keeps as the one way every route is`,
    'served, the route function cannot reach 2×; what could be cut is cut: Fastify\'s default schema compilers',
    '(Ajv, fast-json-stringify: ~475 KiB, never used — the app gives Fastify a factory of its own and the bundle',
    'leaves them out), the SDK\'s fallback credential sources (Lambda\'s credentials are in the environment, read',
    'first), and TypeBox compilation at import (each check compiles on first use); the bundle was 1,628 KiB',
    'before them.',
    '',
  ];
}
