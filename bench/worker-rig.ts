/**
 * A built worker bundle run as Lambda runs it — in a Node process of its own, given SQS events —
 * against stand-ins in this process that speak the real wire protocols: dynalite (DynamoDB), the
 * Bedrock emulator (HTTP/2, ConverseStream), the emulator's S3 (attachments) and an
 * `@connections` stand-in that takes every post. The stand-ins' CPU and memory are not the
 * child's, so what the child measures of itself is the worker's alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { attachmentKey, newAttachmentId } from '../src/attachments/keys';
import { createS3Client, S3AttachmentStore } from '../src/attachments/s3-attachment-store';
import { startDynalite } from '../src/local/dynalite';
import { LocalS3 } from '../src/local/s3';
import { DynamoStreamStore } from '../src/stores/dynamodb/stream-store';
import { ensureTable } from '../src/stores/dynamodb/table';
import { BedrockEmulator } from '../tests/helpers/bedrock-emulator';
import { BUNDLE_OPTIONS, ENTRIES } from '../scripts/bundle';

const TABLE = 'worker-rig';
const BUCKET = 'worker-rig';
const OWNER = 'ip:127.0.0.1';
export const RIG_MODEL = 'us.amazon.nova-lite-v1:0';
const CREDENTIALS = { accessKeyId: 'rig', secretAccessKey: 'rig' };

export interface WorkerRig {
  /** The built bundle (or the one given), and its size. */
  readonly bundle: string;
  readonly bundleBytes: number;
  /** A job's SQS body, its stream opened in DynamoDB; its one user turn carries `attachments` (ids) as images. */
  job(id: string, attachments?: readonly string[]): Promise<string>;
  /** Uploads an image to the rig's S3 under the jobs' owner; resolves with its id. */
  upload(bytes: Buffer): Promise<string>;
  /** Runs `script` (a child written into the rig's folder) with node `args`; resolves with its stdout. */
  run(script: string, env: Record<string, string>, nodeArgs?: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

async function connectionsStandIn(): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/local` };
}

/** Starts the stand-ins and builds the worker bundle as `npm run build` does (unless one is given). */
export async function startWorkerRig(options: { readonly bundle?: string } = {}): Promise<WorkerRig> {
  // Inside the repository, so the child's `require` of what the bundle leaves out (the S3 client) finds node_modules.
  const dir = mkdtempSync(resolve(__dirname, '../node_modules/.worker-rig-'));
  const dynalite = await startDynalite();
  const bedrock = await new BedrockEmulator().start();
  bedrock.scenario = () => ({ kind: 'stream', tokens: ['The ', 'first ', 'token.'] });
  const s3 = new LocalS3({ bucket: BUCKET, region: 'us-east-1', credentials: CREDENTIALS });
  const s3Endpoint = await s3.start('127.0.0.1');
  const connections = await connectionsStandIn();
  const client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  const attachments = new S3AttachmentStore(createS3Client({ bucket: BUCKET, region: 'us-east-1', endpoint: s3Endpoint, credentials: CREDENTIALS }), BUCKET);
  await ensureTable(client, TABLE);
  const streams = new DynamoStreamStore(DynamoDBDocumentClient.from(client), TABLE);
  let bundle = options.bundle;
  let bundleBytes = 0;
  if (bundle === undefined) {
    const built = await build({ ...BUNDLE_OPTIONS, entryPoints: { jobs: ENTRIES.jobs }, outdir: dir, metafile: true, logLevel: 'silent' });
    bundle = join(dir, 'jobs.js');
    bundleBytes = Object.values(built.metafile.outputs).reduce((sum, out) => sum + out.bytes, 0);
  }
  const env = {
    PATH: process.env['PATH'] ?? '',
    WORKER_BUNDLE: bundle,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_LAMBDA_FUNCTION_NAME: 'worker-rig',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LLM_PROVIDER: 'bedrock',
    ALLOWED_MODEL_IDS: RIG_MODEL,
    BEDROCK_ENDPOINT: bedrock.endpoint,
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    CONNECTIONS_TABLE: TABLE,
    ATTACHMENTS_BUCKET: BUCKET,
    S3_ENDPOINT: s3Endpoint,
    MANAGEMENT_API_ENDPOINT: connections.endpoint,
    JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
    METRICS: 'off',
    LOG_LEVEL: 'warn',
  };
  return {
    bundle,
    bundleBytes,
    async job(id, images = []) {
      await streams.open(id, { requestId: id, jobId: id, userId: undefined, mode: 'stream', target: `conn-${id}` }, 600);
      const now = Date.now();
      const content = images.length === 0 ? 'Hello' : [{ type: 'text', text: 'what are these?' }, ...images.map((attachmentId) => ({ type: 'image', attachmentId }))];
      return JSON.stringify({
        version: 1, jobId: id, mode: 'stream', connectionId: `conn-${id}`, requestId: id, streamKey: id, receivedAt: now, queuedAt: now, owner: OWNER,
        request: { modelId: RIG_MODEL, messages: [{ role: 'user', content }], inferenceConfig: {} },
        inputTokens: 2, ticket: { reservedTokens: 0, windowExpiry: Math.floor(now / 1000) + 120, slotId: id, slots: [] },
      });
    },
    async upload(bytes) {
      const id = newAttachmentId();
      const { url, headers } = await attachments.presignUpload(attachmentKey(OWNER, id), 'image/png', bytes.length, 300);
      const put = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(bytes) });
      if (!put.ok) throw new Error(`worker rig: the upload was refused: ${put.status}`);
      return id;
    },
    async run(script, extra, nodeArgs = []) {
      const path = join(dir, `child-${Math.random().toString(36).slice(2)}.js`);
      writeFileSync(path, script);
      // Not spawnSync: the stand-ins answer from this process's event loop.
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [...nodeArgs, path], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.on('error', fail);
        child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`worker rig: the child failed (${String(code)}): ${err}`))));
      });
    },
    async stop() {
      client.destroy();
      connections.server.close();
      await s3.stop();
      await bedrock.stop();
      await dynalite.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The child's part shared by the benches: the bundle required, and an SQS event of job bodies. */
export const CHILD_PRELUDE = `
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const boot = cpu();
const context = { awsRequestId: 'rig', getRemainingTimeInMillis: () => 60000 };
const record = (body, n) => ({ messageId: 'm' + n, receiptHandle: 'r', body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:0:q', awsRegion: 'us-east-1' });
const event = (...bodies) => ({ Records: bodies.map(record) });
const failed = (response) => { if (response.batchItemFailures.length > 0) throw new Error('a job failed'); };
`;
