/**
 * What a typical answer costs and how it reads, measured on the wire: the emulator on DynamoDB
 * (dynalite behind a proxy that tallies the request units DynamoDB would bill), every post
 * counted at `@connections` (API Gateway bills each in 32 KB units), each worker invocation
 * timed, and the reader's side timed at the socket. The typical answer: 500 tokens at 20 ms a
 * token (10 s). `npm run bench` runs this file here and in a copy of the previous version
 * (`tsx bench/cost.ts --json`), so the before and after columns come from one run. It therefore
 * imports only what both versions have.
 */
import { resolve } from 'node:path';
import { MockChatModel } from '../src/llm/mock';
import { loadLocalServerConfig } from '../src/config/local';
import { startDynalite } from '../src/local/dynalite';
import { startLocalGateway } from '../src/local/emulator';
import { LocalQueue } from '../src/local/queue';
import { capacityProxy } from './capacity-proxy';
import { ask, cancelLatencies, resumeLatencies, sleep } from './cost-latency';
import { meanLag, probe, TimedModel } from './cost-probe';
import { templateOf, type TemplateSizes } from './template-sizes';

const TOKENS = 500;
const TOKEN_DELAY_MS = 20;
const LONE = 3;
const BATCHED = 9;
const SAMPLES = 5;

export interface CostRun {
  readonly template: TemplateSizes;
  /** Per answer, answered alone. */
  readonly lone: PerAnswer;
  /**
   * Per answer, for answers that shared a worker invocation: BATCHED asked at once while the one
   * worker allowed is busy, so they wait together and go in batches of BatchSize.
   */
  readonly batched: PerAnswer;
  readonly latency: {
    readonly firstChunkMs: number[];
    /** From the model's last token to the terminal frame at the client. */
    readonly endLagMs: number[];
    /** Mean over the answer's characters: arrival at the client − made by the model. */
    readonly meanTextLagMs: number[];
    /** From `llm/cancel` to the `cancelled` error frame. */
    readonly cancelMs: number[];
    /** From `llm/resume` on a new connection to its `resumed` frame. */
    readonly resumeMs: number[];
    /** Every gap between two chunk frames of an answer, as the reader waits between them. */
    readonly chunkGapsMs: number[];
  };
}

export interface PerAnswer {
  /** Messages API Gateway bills: the request in, and each post out in 32 KB units. */
  readonly messages: number;
  readonly dynamoOps: Record<string, number>;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Worker invocations and their total ms, per answer (batched: only the invocations of more than one). */
  readonly invocations: number;
  readonly workerMs: number;
  /** Answers per invocation counted. */
  readonly perInvocation: number;
  /** The route's share: from the frame to `accepted` (≈ the invocation's duration). */
  readonly routeMs: number;
}


export async function measureCost(root = resolve(__dirname, '..')): Promise<CostRun> {
  const template = templateOf(root);
  const dynalite = await startDynalite();
  const proxy = await capacityProxy(dynalite.endpoint);
  const model = new TimedModel(new MockChatModel({ tokenDelayMs: TOKEN_DELAY_MS, answerTokens: TOKENS }));
  let posted = 0;
  // Each worker invocation, timed (the emulator's event source calls this once per batch).
  const invocations: Array<{ readonly records: number; readonly ms: number }> = [];
  const queue = LocalQueue.prototype as unknown as { invoke: (batch: readonly unknown[], ...rest: unknown[]) => Promise<unknown> };
  const invoke = queue.invoke;
  queue.invoke = async function timed(this: unknown, batch: readonly unknown[], ...rest: unknown[]) {
    const start = performance.now();
    try {
      return await invoke.call(this, batch, ...rest);
    } finally {
      invocations.push({ records: batch.length, ms: performance.now() - start });
    }
  };
  const env = {
    LOG_LEVEL: 'silent',
    DYNAMODB_ENDPOINT: proxy.endpoint,
    RATE_LIMIT_REQUESTS_PER_MINUTE: '10000',
    MAX_CONCURRENT_PER_CONNECTION: String(BATCHED),
    MAX_CONCURRENT_PER_USER: String(2 * BATCHED),
  };
  // One worker invocation at a time: lone answers come one after another anyway, and a burst then
  // waits in the queue and goes in batches of the template's BatchSize, as it does in AWS.
  const server = { ...loadLocalServerConfig({ PORT: '0', HOST: '127.0.0.1' }), queue: { ...loadLocalServerConfig({}).queue, batchSize: template.batchSize, maxInvocations: 1 } };
  const local = await startLocalGateway({
    server,
    env,
    deps: { model },
    beforePost: (_id, data) => {
      posted += Math.max(1, Math.ceil(data.length / 32_768));
      return undefined;
    },
  });
  const latency: { [K in keyof CostRun['latency']]: number[] } = { firstChunkMs: [], endLagMs: [], meanTextLagMs: [], cancelMs: [], resumeMs: [], chunkGapsMs: [] };
  const window = async (answers: number, shared: boolean, run: () => Promise<number>): Promise<PerAnswer> => {
    proxy.reset();
    posted = 0;
    invocations.length = 0;
    const routeMs = await run();
    // The worker's releases after `done` and its invocation's end: let them land before counting.
    await sleep(500);
    const sum = (ops: string[]) => ops.reduce((n, op) => n + (proxy.units.get(op) ?? 0), 0);
    const counted = invocations.filter((i) => (shared ? i.records > 1 : true));
    const records = counted.reduce((n, i) => n + i.records, 0);
    return {
      messages: (answers + posted) / answers,
      dynamoOps: Object.fromEntries([...proxy.operations].map(([op, n]) => [op, n / answers])),
      writeUnits: sum(['PutItem', 'UpdateItem', 'DeleteItem']) / answers,
      readUnits: sum(['GetItem', 'Query']) / answers,
      invocations: counted.length / records,
      workerMs: counted.reduce((n, i) => n + i.ms, 0) / records,
      perInvocation: records / counted.length,
      routeMs: routeMs / answers,
    };
  };
  try {
    const client = await probe(local.url);
    const answer = async (id: string): Promise<number> => {
      model.made = [];
      const sent = performance.now();
      client.send(ask(id));
      const accepted = await client.until((f) => f.requestId === id && f.type === 'accepted');
      const first = await client.until((f) => f.requestId === id && f.type === 'chunk');
      const end = await client.until((f) => f.requestId === id && (f.type === 'done' || f.type === 'error'));
      if (end.frame.type !== 'done') throw new Error(`cost bench: ${id} ended with ${JSON.stringify(end.frame)}`);
      latency.firstChunkMs.push(first.at - sent);
      latency.endLagMs.push(end.at - model.endedAt);
      const chunks = client.frames.filter((a) => a.frame.requestId === id && a.frame.type === 'chunk');
      latency.meanTextLagMs.push(meanLag(model.made, chunks));
      latency.chunkGapsMs.push(...chunks.slice(1).map((chunk, i) => chunk.at - chunks[i]!.at));
      return accepted.at - sent;
    };
    await answer('warm-up');
    await sleep(500);
    const lone = await window(LONE, false, async () => {
      let route = 0;
      for (let i = 0; i < LONE; i += 1) {
        route += await answer(`lone-${i}`);
        // Its invocation ends after `done` (the releases): the next answer is a lone one too.
        await sleep(300);
      }
      return route;
    });
    const batched = await window(BATCHED, true, async () => {
      const ids = Array.from({ length: BATCHED }, (_, i) => `batch-${i}`);
      const sent = performance.now();
      ids.forEach((id) => client.send(ask(id)));
      const accepted = await Promise.all(ids.map((id) => client.until((f) => f.requestId === id && f.type === 'accepted')));
      await Promise.all(ids.map((id) => client.until((f) => f.requestId === id && f.type === 'done')));
      return accepted.reduce((n, a) => n + (a.at - sent), 0);
    });
    latency.cancelMs.push(...(await cancelLatencies(client, SAMPLES)));
    latency.resumeMs.push(...(await resumeLatencies(local.url, SAMPLES)));
    client.close();
    return { template, lone, batched, latency };
  } finally {
    queue.invoke = invoke;
    await local.stop();
    await proxy.stop();
    await dynalite.stop();
  }
}

// Prints JSON (for bench/baseline.ts) whatever the arguments.
if (require.main === module) {
  measureCost(process.cwd()).then(
    (run) => process.stdout.write(`${JSON.stringify(run)}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
