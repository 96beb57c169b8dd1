/**
 * Several answers per worker invocation: on the emulator with one worker invocation at a time
 * and batches of up to 10, a lone job's first-chunk time (from the moment its invocation picked
 * it up) next to that of ten jobs carried by one invocation. Loopback only, bounded in count.
 */
import { loadLocalServerConfig } from '../src/config/local';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../src/llm/chat-model';
import { MockChatModel } from '../src/llm/mock';
import { startLocalGateway } from '../src/local/emulator';
import { TestClient } from '../tests/helpers/ws-client';
import { NO_LIMITS } from './env';
import { percentile } from './load-client';
import { ms } from './format';
import { textOf } from '../src/models/content';

export interface BatchResults {
  readonly loneFirstChunkMs: number;
  readonly batchFirstChunkP50Ms: number;
  readonly batchFirstChunkMaxMs: number;
  readonly batchSize: number;
  readonly tokenDelayMs: number;
}

/** Notes when each answer's model call starts (the worker has picked the job up). */
class StartClock implements ChatModel {
  readonly started = new Map<string, number>();
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    this.started.set(textOf(request.messages.at(-1)?.content ?? ''), performance.now());
    yield* this.inner.stream(request, signal);
  }
}

const ROUNDS = 3;

/** `tokenDelayMs` is the mock model's time per token, first token included. */
export async function measureBatch(tokenDelayMs: number): Promise<BatchResults> {
  const model = new StartClock(new MockChatModel({ tokenDelayMs, answerTokens: 20 }));
  const env = { LOG_LEVEL: 'silent', ...NO_LIMITS };
  const server = loadLocalServerConfig({ PORT: '0', HOST: '127.0.0.1', WORKER_MAX_INVOCATIONS: '1', WORKER_BATCH_SIZE: '10' });
  const local = await startLocalGateway({ server, env, deps: { model } });
  const client = await TestClient.connect(local.url);
  const firstChunk = async (requestId: string, prompt: string): Promise<number> => {
    await client.waitFor((frames) => frames.some((f) => f.requestId === requestId && f.type === 'chunk'), 20_000);
    return performance.now() - (model.started.get(prompt) ?? Number.NaN);
  };
  const ask = (requestId: string, prompt: string): void => client.send({ action: 'llm/stream', requestId, data: { messages: [{ role: 'user', content: prompt }] } });
  try {
    const lone: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      ask(`lone-${i}`, `lone ${i}`);
      lone.push(await firstChunk(`lone-${i}`, `lone ${i}`));
      await client.terminal(`lone-${i}`, 20_000);
    }
    // A long job holds the one invocation; ten more queue up meanwhile and go as one batch.
    // Three rounds: the report takes the median round (one round is at the mercy of a GC pause).
    const rounds: number[][] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      ask(`holder-${round}`, `holder ${round}`);
      await client.waitFor((frames) => frames.some((f) => f.requestId === `holder-${round}` && f.type === 'chunk'));
      const ids = Array.from({ length: 10 }, (_, i) => `batch-${round}-${i}`);
      for (const id of ids) ask(id, id);
      rounds.push(await Promise.all(ids.map((id) => firstChunk(id, id))));
      await Promise.all(ids.map((id) => client.terminal(id, 20_000)));
    }
    const medians = rounds.map((batch) => percentile(batch, 50));
    return {
      loneFirstChunkMs: percentile(lone, 50),
      batchFirstChunkP50Ms: percentile(medians, 50),
      batchFirstChunkMaxMs: Math.max(...rounds.flat()),
      batchSize: Math.max(...local.queue.batchSizes),
      tokenDelayMs,
    };
  } finally {
    await client.close();
    await local.stop();
  }
}

/** A batch's first chunk against a lone job's. */
export function batchRatio(b: BatchResults): number {
  return b.batchFirstChunkP50Ms / b.loneFirstChunkMs;
}

const verdict = (b: BatchResults): string => (batchRatio(b) <= 1.2 ? 'meets' : 'misses');

/** The report's section on batched worker invocations, from a fast and a slow mock model. */
export function batchSection(batchFast: BatchResults, batchSlow: BatchResults): string[] {
  return [
    '## Several answers per worker invocation',
    '',
    'One worker invocation at a time, batches of up to 10 (the template\'s BatchSize, no batching window). A long job',
    'holds the invocation while ten more queue, so the next invocation carries all ten. Measured: from the moment each',
    `answer\'s model call starts to its first chunk at the client (lone: median of 5; batch: the median round of ${ROUNDS}). The mock model waits its token`,
    'delay before every token, the first included.',
    '',
    '| Mock token delay | Lone job | 10 jobs in one invocation: median / worst of all rounds | Ratio (target ≤ 1.2×) |',
    '| --- | --- | --- | --- |',
    ...[batchFast, batchSlow].map((b) => `| ${b.tokenDelayMs} ms | ${ms(b.loneFirstChunkMs)} | ${ms(b.batchFirstChunkP50Ms)} / ${ms(b.batchFirstChunkMaxMs)} (batch of ${b.batchSize}) | ${batchRatio(b).toFixed(2)}× |`),
    '',
    `The batch adds ${ms(batchFast.batchFirstChunkP50Ms - batchFast.loneFirstChunkMs)} / ${ms(batchSlow.batchFirstChunkP50Ms - batchSlow.loneFirstChunkMs)} at the two paces: ten first chunks come due in the same tick and each`,
    'post (SigV4 signing, HTTP to the emulator\'s `@connections`, the emulator\'s WebSocket send) takes its turn on the',
    `one thread of this process, which here holds the worker, the emulator and the client. Against a ${batchFast.tokenDelayMs} ms first token`,
    `that ${verdict(batchFast)} the 1.2× target; against ${batchSlow.tokenDelayMs} ms it ${verdict(batchSlow)} it, and a hosted model's first token usually takes longer. In AWS the`,
    'receiving side is API Gateway\'s, so the worker pays only its own half.',
    '',
    'What it changes in AWS (arithmetic, for the cost table\'s answer of ~10.3 s at 512 MB): with BatchSize 1 every answer in',
    'flight holds an invocation, so 1,000 of Lambda concurrency carry at most 1,000 answers, and 1,000 answers cost',
    '~5,150 GB-s. With BatchSize 10, answers that are waiting together go together: up to 10,000 answers per 1,000 of',
    'concurrency, and down to ~515 GB-s per 1,000 answers when batches are full (a lone answer still costs what it did:',
    'there is no batching window to wait for).',
    '',
  ];
}
