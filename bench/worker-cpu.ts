/**
 * The worker's CPU need, for its memory size: Lambda gives a function CPU in proportion to its
 * memory (1,769 MB = one vCPU), and the worker mostly waits on its model. Streams a batch of
 * paced answers on the emulator and reads this process's CPU time (user + system) against the
 * answers' wall time. The process also runs the emulator and the client, so the figure is an
 * upper bound on what the worker alone uses.
 */
import { loadLocalServerConfig } from '../src/config/local';
import { startLocalGateway } from '../src/local/emulator';
import { TestClient } from '../tests/helpers/ws-client';

export interface WorkerCpuResults {
  readonly answers: number;
  readonly tokensPerAnswer: number;
  readonly tokenDelayMs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** CPU time over wall time for one answer in flight (upper bound), in vCPU. */
  readonly vcpuPerAnswer: number;
  readonly rssMiB: number;
  /** Rounds measured (after one warm-up) and the lowest and highest vCPU per answer among them. */
  readonly rounds?: number;
  readonly spread?: readonly [number, number];
}

/** One warm-up round (the JIT, as in a warm Lambda instance), then the median of `rounds`. */
export async function measureWorkerCpu(rounds = 3): Promise<WorkerCpuResults> {
  await measureRound();
  const results: WorkerCpuResults[] = [];
  for (let i = 0; i < rounds; i += 1) results.push(await measureRound());
  results.sort((a, b) => a.vcpuPerAnswer - b.vcpuPerAnswer);
  const median = results[Math.floor(results.length / 2)];
  if (median === undefined) throw new Error('worker cpu bench: no rounds');
  return { ...median, rounds, spread: [results[0]?.vcpuPerAnswer ?? Number.NaN, results.at(-1)?.vcpuPerAnswer ?? Number.NaN] };
}

async function measureRound(answers = 10, tokensPerAnswer = 200, tokenDelayMs = 25): Promise<WorkerCpuResults> {
  const env = {
    LOG_LEVEL: 'silent',
    MOCK_TOKEN_DELAY_MS: String(tokenDelayMs),
    MOCK_ANSWER_TOKENS: String(tokensPerAnswer),
    RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
    RATE_LIMIT_TOKENS_PER_MINUTE: '0',
    MAX_CONCURRENT_PER_CONNECTION: '0',
    MAX_CONCURRENT_PER_USER: '0',
  };
  const server = loadLocalServerConfig({ PORT: '0', HOST: '127.0.0.1', WORKER_BATCH_SIZE: '10' });
  const local = await startLocalGateway({ server, env });
  const client = await TestClient.connect(local.url);
  try {
    const ids = Array.from({ length: answers }, (_, i) => `cpu-${i}`);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (const id of ids) client.send({ action: 'llm/stream', requestId: id, data: { messages: [{ role: 'user', content: id }] } });
    const ends = await Promise.all(ids.map((id) => client.terminal(id, 120_000)));
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpuBefore);
    const bad = ends.filter((frame) => frame.type !== 'done');
    if (bad.length > 0) throw new Error(`worker cpu bench: ${bad.length} answers did not end with done`);
    const cpuMs = (used.user + used.system) / 1000;
    return {
      answers,
      tokensPerAnswer,
      tokenDelayMs,
      wallMs,
      cpuMs,
      vcpuPerAnswer: cpuMs / wallMs / answers,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
    };
  } finally {
    await client.close();
    await local.stop();
  }
}
