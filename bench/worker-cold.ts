/**
 * The worker's cold first token, from its built bundle: each run is a fresh Node process that
 * requires `jobs.js` as Lambda's runtime would, then runs one real job — a claim on DynamoDB
 * (dynalite), a ConverseStream on the Bedrock emulator (HTTP/2, the real SDK), its frames posted
 * to an `@connections` stand-in — and reports the CPU time (user + system) of each phase: Node's
 * own start, the `require`, the first job, and a second job for contrast. The stand-ins run in
 * this process, so their CPU is not counted.
 *
 * Lambda gives a function CPU in proportion to its memory (1,769 MB = one vCPU), so a phase's CPU
 * at M MB takes about cpu × 1769 / M of wall time. That model leaves out what is not CPU: the
 * network round trips of the first job (a few ms each in a Region), TLS handshakes' wait, and
 * Lambda's own sandbox start and code download (a few hundred ms, outside the function's control,
 * smaller for a smaller zip).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynalite } from '../src/local/dynalite';
import { DynamoStreamStore } from '../src/stores/dynamodb/stream-store';
import { ensureTable } from '../src/stores/dynamodb/table';
import { BedrockEmulator } from '../tests/helpers/bedrock-emulator';
import { BUNDLE_OPTIONS, ENTRIES } from '../scripts/bundle';

export interface WorkerColdRun {
  readonly bootCpuMs: number;
  readonly requireCpuMs: number;
  readonly firstJobCpuMs: number;
  readonly secondJobCpuMs: number;
}

export interface WorkerColdResults {
  readonly runs: number;
  readonly bundleBytes: number;
  /** Medians of each phase over the runs. */
  readonly median: WorkerColdRun;
  /** The least of each phase: CPU time only grows with what else the machine does, so this is the steadiest figure for comparisons. */
  readonly min: WorkerColdRun;
}

const TABLE = 'worker-cold';
const MODEL = 'us.amazon.nova-lite-v1:0';

/** The child: times each phase by its own CPU clock, prints one JSON line. */
const CHILD = `
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const boot = cpu();
const { worker } = require(process.env.WORKER_BUNDLE);
const required = cpu();
const context = { awsRequestId: 'cold', getRemainingTimeInMillis: () => 60000 };
const event = (n) => ({ Records: [{ messageId: 'm' + n, receiptHandle: 'r', body: process.env['JOB_' + n], attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:0:q', awsRegion: 'us-east-1' }] });
(async () => {
  const first = await worker(event(1), context);
  const afterFirst = cpu();
  const second = await worker(event(2), context);
  const afterSecond = cpu();
  if (first.batchItemFailures.length + second.batchItemFailures.length > 0) throw new Error('a job failed');
  process.stdout.write(JSON.stringify({ bootCpuMs: boot, requireCpuMs: required - boot, firstJobCpuMs: afterFirst - required, secondJobCpuMs: afterSecond - afterFirst }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** An `@connections` stand-in that takes every post (what the worker posts is not measured here). */
async function connectionsStandIn(): Promise<{ server: Server; endpoint: string; posts: () => number }> {
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts += 1;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/local`, posts: () => posts };
}

/** Runs the child to its end; resolves with its stdout. */
function runChild(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? (process.env['WORKER_COLD_STDERR'] ? (process.stderr.write(err), resolve(out)) : resolve(out)) : reject(new Error(`worker cold start: the child failed (${String(code)}): ${err}`))));
  });
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Builds the worker bundle as `npm run build` does, and starts it `runs` times, each with two fresh jobs. */
export async function measureWorkerCold(runs = 9, options: { readonly nodeArgs?: readonly string[]; readonly bundle?: string } = {}): Promise<WorkerColdResults> {
  const dir = mkdtempSync(join(tmpdir(), 'worker-cold-'));
  const dynalite = await startDynalite();
  const bedrock = await new BedrockEmulator().start();
  bedrock.scenario = () => ({ kind: 'stream', tokens: ['The ', 'first ', 'token.'] });
  const connections = await connectionsStandIn();
  const client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  try {
    const built = await build({ ...BUNDLE_OPTIONS, entryPoints: { jobs: ENTRIES.jobs }, outdir: dir, metafile: true, logLevel: 'silent' });
    writeFileSync(join(dir, 'child.js'), CHILD);
    await ensureTable(client, TABLE);
    const streams = new DynamoStreamStore(DynamoDBDocumentClient.from(client), TABLE);
    const samples: WorkerColdRun[] = [];
    for (let run = 0; run < runs; run += 1) {
      const jobs = await Promise.all([1, 2].map(async (n) => {
        const id = `cold-${run}-${n}`;
        await streams.open(id, { requestId: id, jobId: id, userId: undefined, mode: 'stream', target: `conn-${id}` }, 600);
        const now = Date.now();
        return JSON.stringify({
          version: 1, jobId: id, mode: 'stream', connectionId: `conn-${id}`, requestId: id, streamKey: id, receivedAt: now, queuedAt: now,
          request: { modelId: MODEL, messages: [{ role: 'user', content: 'Hello' }], inferenceConfig: {} },
          inputTokens: 2, ticket: { reservedTokens: 0, windowExpiry: Math.floor(now / 1000) + 120, slotId: id, slots: [] },
        });
      }));
      const env = {
        PATH: process.env['PATH'] ?? '',
        WORKER_BUNDLE: options.bundle ?? join(dir, 'jobs.js'),
        JOB_1: jobs[0]!,
        JOB_2: jobs[1]!,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
        AWS_LAMBDA_FUNCTION_NAME: 'worker-cold',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        LLM_PROVIDER: 'bedrock',
        ALLOWED_MODEL_IDS: MODEL,
        BEDROCK_ENDPOINT: bedrock.endpoint,
        DYNAMODB_ENDPOINT: dynalite.endpoint,
        CONNECTIONS_TABLE: TABLE,
        MANAGEMENT_API_ENDPOINT: connections.endpoint,
        JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
        METRICS: 'off',
        LOG_LEVEL: 'warn',
        // Experiments: more of the child's environment, as JSON.
        ...(JSON.parse(process.env['WORKER_COLD_ENV'] ?? '{}') as Record<string, string>),
      };
      // Not spawnSync: the stand-ins answer from this process's event loop.
      samples.push(JSON.parse(await runChild([...(options.nodeArgs ?? []), join(dir, 'child.js')], env)) as WorkerColdRun);
    }
    const pick = (key: keyof WorkerColdRun): number => median(samples.map((s) => s[key]));
    const least = (key: keyof WorkerColdRun): number => Math.min(...samples.map((s) => s[key]));
    const bundleBytes = Object.values(built.metafile.outputs).reduce((sum, out) => sum + out.bytes, 0);
    return { runs, bundleBytes, median: { bootCpuMs: pick('bootCpuMs'), requireCpuMs: pick('requireCpuMs'), firstJobCpuMs: pick('firstJobCpuMs'), secondJobCpuMs: pick('secondJobCpuMs') }, min: { bootCpuMs: least('bootCpuMs'), requireCpuMs: least('requireCpuMs'), firstJobCpuMs: least('firstJobCpuMs'), secondJobCpuMs: least('secondJobCpuMs') } };
  } finally {
    client.destroy();
    connections.server.close();
    await bedrock.stop();
    await dynalite.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // npx tsx bench/worker-cold.ts [runs] [bundle] [node flags…]: e.g. an unminified bundle with --cpu-prof, to see where the time goes.
  const [runs = '9', bundle, ...nodeArgs] = process.argv.slice(2);
  void measureWorkerCold(Number(runs), { ...(bundle ? { bundle } : {}), nodeArgs }).then((results) => process.stdout.write(`${JSON.stringify(results, null, 2)}\n`));
}
