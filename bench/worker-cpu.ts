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
import { NO_LIMITS } from './env';
import { ms } from './format';

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
    ...NO_LIMITS,
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

/** The report's section on the worker's memory size: the smallest that leaves a full batch headroom. */
export function workerCpuSection(workerCpu: WorkerCpuResults, template: { readonly workerMb: number; readonly batchSize: number }): string[] {
  // Sized on the worst round, not the median: rounds vary with GC and JIT, and a batch that
  // outruns its CPU share delays every answer in it.
  const worst = workerCpu.spread?.[1] ?? workerCpu.vcpuPerAnswer;
  const sizes = [128, 256, 512, 1024];
  const { batchSize } = template;
  const workerPick = sizes.find((mb) => (batchSize * worst) / (mb / 1769) < 0.75);
  return [
    '## The worker\'s memory size',
    '',
    `Lambda gives CPU in proportion to memory (1,769 MB = one vCPU). ${workerCpu.answers} answers of ${workerCpu.tokensPerAnswer} tokens at ${workerCpu.tokenDelayMs} ms a token, streamed at once`,
    `on the emulator (batches of 10), after one warm-up round, median of ${workerCpu.rounds ?? 1}: ${ms(workerCpu.cpuMs)} of CPU over ${ms(workerCpu.wallMs)}, ${workerCpu.vcpuPerAnswer.toFixed(3)} vCPU`,
    `per answer in flight (rounds ranged ${workerCpu.spread?.[0].toFixed(3)}–${workerCpu.spread?.[1].toFixed(3)}). That counts the emulator and the client too (same process), so it is`,
    'an upper bound on the worker\'s share.',
    '',
    `| Worker memory | vCPU | A full batch of ${batchSize} (the template's BatchSize) uses, of that CPU (upper bound, worst round) | Headroom (under 75%)? |`,
    '| --- | --- | --- | --- |',
    ...sizes.map((mb) => {
      const share = (batchSize * worst) / (mb / 1769);
      return `| ${mb} MB | ${(mb / 1769).toFixed(3)} | ${(share * 100).toFixed(0)}% | ${share < 0.75 ? 'yes' : 'no'} |`;
    }),
    '',
    `The rule: the smallest size at which a full batch, at the worst round's rate, needs under 75% of the CPU Lambda gives it, leaving room for GC, timers`,
    `and the next batch's start. The pick: ${workerPick === undefined ? 'none of these' : `${workerPick} MB`} (the template has ${template.workerMb} MB, \`WorkerMemorySize\`); a bigger size`,
    `would add GB-seconds for CPU the worker does not use — except at a cold start: the worker's require and first invocation`,
    `(see the cold start table) run on the same CPU share, so at 128 MB they take about ${(1769 / 128).toFixed(0)} times their time on a full core.`,
    `Memory is not the limit: this whole process (emulator, client, worker and ${workerCpu.answers} answers) held ${workerCpu.rssMiB.toFixed(0)} MiB resident.`,
    '',
  ];
}
