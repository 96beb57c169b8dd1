/**
 * The worker's cold first token, from its built bundle (bench/worker-rig.ts): each run is a fresh
 * Node process that requires `jobs.js` as Lambda's runtime would, then runs one real job — the
 * claim on DynamoDB, ConverseStream on the Bedrock emulator, its frames posted — and a second
 * one, timing each phase by its own CPU clock (user + system): Node's own start, the `require`,
 * the first job, the second.
 *
 * Lambda gives a function CPU in proportion to its memory (1,769 MB = one vCPU), so a phase's CPU
 * at M MB takes about cpu × 1769 / M of wall time. That model leaves out what is not CPU: the
 * network round trips of the first job (a few ms each in a Region), TLS handshakes' wait, and
 * Lambda's own sandbox start and code download (a few hundred ms, outside the function's control,
 * smaller for a smaller zip).
 */
import { CHILD_PRELUDE, startWorkerRig } from './worker-rig';

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

const CHILD = `${CHILD_PRELUDE}
const { worker } = require(process.env.WORKER_BUNDLE);
const required = cpu();
(async () => {
  failed(await worker(event(process.env.JOB_1), context));
  const afterFirst = cpu();
  failed(await worker(event(process.env.JOB_2), context));
  const afterSecond = cpu();
  process.stdout.write(JSON.stringify({ bootCpuMs: boot, requireCpuMs: required - boot, firstJobCpuMs: afterFirst - required, secondJobCpuMs: afterSecond - afterFirst }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Builds the worker bundle as `npm run build` does (or takes `bundle`), and starts it `runs` times, each with two fresh jobs. */
export async function measureWorkerCold(runs = 9, options: { readonly nodeArgs?: readonly string[]; readonly bundle?: string } = {}): Promise<WorkerColdResults> {
  const rig = await startWorkerRig(options.bundle === undefined ? {} : { bundle: options.bundle });
  try {
    const samples: WorkerColdRun[] = [];
    for (let run = 0; run < runs; run += 1) {
      const [first, second] = await Promise.all([rig.job(`cold-${run}-1`), rig.job(`cold-${run}-2`)]);
      // Experiments: more of the child's environment, as JSON (WORKER_COLD_ENV).
      const extra = JSON.parse(process.env['WORKER_COLD_ENV'] ?? '{}') as Record<string, string>;
      samples.push(JSON.parse(await rig.run(CHILD, { JOB_1: first, JOB_2: second, ...extra }, options.nodeArgs)) as WorkerColdRun);
    }
    const summary = (of: (values: number[]) => number): WorkerColdRun => ({
      bootCpuMs: of(samples.map((s) => s.bootCpuMs)),
      requireCpuMs: of(samples.map((s) => s.requireCpuMs)),
      firstJobCpuMs: of(samples.map((s) => s.firstJobCpuMs)),
      secondJobCpuMs: of(samples.map((s) => s.secondJobCpuMs)),
    });
    return { runs, bundleBytes: rig.bundleBytes, median: summary(median), min: summary((values) => Math.min(...values)) };
  } finally {
    await rig.stop();
  }
}

if (require.main === module) {
  // npx tsx bench/worker-cold.ts [runs] [bundle] [node flags…]: e.g. an unminified bundle with --cpu-prof, to see where the time goes.
  const [runs = '9', bundle, ...nodeArgs] = process.argv.slice(2);
  void measureWorkerCold(Number(runs), { ...(bundle ? { bundle } : {}), nodeArgs }).then((results) => process.stdout.write(`${JSON.stringify(results, null, 2)}\n`));
}
