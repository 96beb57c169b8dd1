import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { SignJWT } from 'jose';
import disconnectFixture from '../tests/fixtures/events/disconnect.json';
import messageFixture from '../tests/fixtures/events/message.json';
import { loadConfig } from '../src/config/config';
import { createGateway } from '../src/gateway';
import { MockChatModel } from '../src/llm/mock';
import { MemoryConnectionStore } from '../src/stores/memory-connection-store';
import { MemoryCounterStore } from '../src/stores/memory-counter-store';
import { MemoryRequestStore } from '../src/stores/memory-request-store';
import { MemoryStreamStore } from '../src/stores/memory-stream-store';
import type { WsEvent } from '../src/utils/lambda';
import { createLogger } from '../src/utils/logger';
import { NoMetrics } from '../src/utils/metrics';
import { percentile } from './load-client';
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
  readonly warm: { readonly invocations: number; readonly medianUs: number; readonly p99Us: number; readonly bareMedianUs: number };
}

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
    await build({ ...BUNDLE_OPTIONS, entryPoints: { ...ENTRIES, bare: 'bench/bare-handler.ts' }, outdir: dir, logLevel: 'silent' });
    // The same app bundle with its source map, started with --enable-source-maps, as the
    // template's EnableSourceMaps=true runs it.
    await build({ ...BUNDLE_OPTIONS, entryPoints: { 'api-maps': ENTRIES.api }, outdir: dir, sourcemap: true, logLevel: 'silent' });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
    const events: Record<string, { entry: string; event: unknown; flags?: string[] }> = {
      api: { entry: 'handler', event: disconnectFixture },
      'api-maps': { entry: 'handler', event: disconnectFixture, flags: ['--enable-source-maps'] },
      // A record that is not a job: parsed, refused, reported — the worker's path without a model call.
      jobs: { entry: 'worker', event: { Records: [{ messageId: 'm', body: '{}', attributes: { ApproximateReceiveCount: '1' } }] } },
      authorizer: { entry: 'authorizer', event: { type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:1:a/prod/$connect', queryStringParameters: { token } } },
      bare: { entry: 'handler', event: {} },
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
    for (const [name, { entry, event, flags = [] }] of Object.entries(events)) {
      const file = join(dir, `${name}.js`);
      const eventFile = join(dir, `${name}.event.json`);
      writeFileSync(eventFile, JSON.stringify(event));
      const script = `const t0=performance.now();const m=require(${JSON.stringify(file)});const t1=performance.now();` +
        `m.${entry}(require(${JSON.stringify(eventFile)})).then(()=>{process.stdout.write(JSON.stringify({load:t1-t0,first:performance.now()-t0}))},(e)=>{process.stderr.write(String(e));process.exit(1)});`;
      const samples = Array.from({ length: RUNS }, () => {
        const { wallMs, stdout } = spawnTimed([...flags, '-e', script], env);
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

/** One ping through the whole adapter (event → proxy → Fastify → handler → sender), warm. */
async function measureWarm(): Promise<ColdStartResults['warm']> {
  const gateway = await createGateway({
    config: loadConfig({ MANAGEMENT_API_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod', JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs', LOG_LEVEL: 'silent' }),
    logger: createLogger('silent'),
    sender: { send: () => Promise.resolve() },
    connections: new MemoryConnectionStore(),
    requests: new MemoryRequestStore(),
    counters: new MemoryCounterStore(),
    streams: new MemoryStreamStore(),
    queue: { enqueue: () => Promise.resolve() },
    model: new MockChatModel({ tokenDelayMs: 0, answerTokens: 1 }),
    metrics: new NoMetrics(),
  });
  const event = messageFixture as WsEvent;
  const invocations = 20_000;
  const samples: number[] = [];
  const bare: number[] = [];
  // The floor: what any handler does for a ping (parse the frame, build the reply).
  const bareHandler = (e: WsEvent): Promise<string> => Promise.resolve(JSON.stringify({ type: 'pong', requestId: (JSON.parse(e.body ?? '{}') as { requestId?: string }).requestId, serverTime: Date.now() }));
  try {
    for (let i = 0; i < invocations + 1000; i += 1) {
      const t0 = process.hrtime.bigint();
      await gateway.handler(event);
      const t1 = process.hrtime.bigint();
      await bareHandler(event);
      const t2 = process.hrtime.bigint();
      if (i >= 1000) {
        samples.push(Number(t1 - t0) / 1000);
        bare.push(Number(t2 - t1) / 1000);
      }
    }
  } finally {
    await gateway.app.close();
  }
  return { invocations, medianUs: percentile(samples, 50), p99Us: percentile(samples, 99), bareMedianUs: percentile(bare, 50) };
}
