/** The report's section on the worker's cold first token, and its rows in the targets table. */
import type { CostRun } from './cost';
import { costOf } from './cost-report';
import { kib, ms } from './format';
import type { WorkerColdResults, WorkerColdRun } from './worker-cold';

/** Lambda's CPU share: 1,769 MB is one vCPU, in proportion below it. */
const FULL_CORE_MB = 1769;
const SIZES = [128, 256, 512, 1024] as const;

/** The CPU a cold worker spends before its first answer ends: Node's start, the require, the first job. */
export const coldCpuMs = (run: WorkerColdRun): number => run.bootCpuMs + run.requireCpuMs + run.firstJobCpuMs;

/** The gateway's part of a lone answer's cost with the worker at `mb` (its GB-seconds scale with memory; nothing else does). */
function totalAt(cost: CostRun, mb: number): number {
  const parts = costOf(cost, cost.lone, true);
  return parts.total - parts.worker + parts.worker * (mb / cost.template.workerMb);
}

const per1000 = (dollars: number): string => `$${(dollars * 1000).toFixed(3)}`;

export function workerColdTargets(before: WorkerColdResults, after: WorkerColdResults, cost: CostRun): string[] {
  const mb = cost.template.workerMb;
  const estimate = (coldCpuMs(after.min) * FULL_CORE_MB) / mb;
  return [
    `| worker init + first job ≤ 80 ms of CPU on this machine (least of ${after.runs} cold starts) | ${ms(after.min.requireCpuMs + after.min.firstJobCpuMs)} (before: ${ms(before.min.requireCpuMs + before.min.firstJobCpuMs)}); Node's own start ${ms(after.min.bootCpuMs)} besides | ${after.min.requireCpuMs + after.min.firstJobCpuMs <= 80 ? 'yes' : '**no**'} |`,
    `| estimated cold first token at the default worker memory (${mb} MB) ≤ 1.2 s | ${(estimate / 1000).toFixed(2)} s | ${estimate <= 1200 ? 'yes' : '**no**'} |`,
    `| … while a lone typical answer costs ≤ $0.065 per 1,000 | ${per1000(totalAt(cost, mb))} | ${totalAt(cost, mb) <= 0.065e-3 ? 'yes' : '**no**'} |`,
  ];
}

export function workerColdSection(before: WorkerColdResults, after: WorkerColdResults, beforeName: string, cost: CostRun): string[] {
  const phase = (name: string, pick: (r: WorkerColdRun) => number): string =>
    `| ${name} | ${ms(pick(before.min))} (median ${ms(pick(before.median))}) | ${ms(pick(after.min))} (median ${ms(pick(after.median))}) |`;
  return [
    '## The worker\'s cold first token',
    '',
    `Each of ${after.runs} runs starts the built worker bundle (\`jobs.js\`, as \`npm run build\` makes it) in a fresh Node process, requires it as`,
    'Lambda\'s runtime does, and runs one real job — the claim on DynamoDB (dynalite), ConverseStream on the Bedrock emulator (HTTP/2, the real',
    'SDK), three frames posted to an `@connections` stand-in — then a second one. Each phase is timed by the process\'s own CPU clock (user +',
    'system), so the stand-ins, in the parent process, do not count. The least of the runs is the figure compared (CPU time only grows with what',
    `else the machine does); medians beside it. "Before" is ${beforeName}, its own bundle, measured in the same run (\`bench/baseline.ts\`).`,
    '',
    `| phase (CPU) | before (${kib(before.bundleBytes)} bundle) | after (${kib(after.bundleBytes)} bundle) |`,
    '| --- | --- | --- |',
    phase('Node\'s own start', (r) => r.bootCpuMs),
    phase('`require` of the bundle (the init phase)', (r) => r.requireCpuMs),
    phase('the first job', (r) => r.firstJobCpuMs),
    phase('a second job (warm)', (r) => r.secondJobCpuMs),
    phase('**cold, to the end of the first answer**', coldCpuMs),
    '',
    'What that CPU becomes in Lambda, where a function gets CPU in proportion to its memory (1,769 MB = one vCPU): the estimate is the cold CPU',
    '× 1,769 / memory. It leaves out what is not CPU and not the gateway\'s: Lambda\'s sandbox start and code download (a few hundred ms,',
    'less for a smaller zip), the first job\'s network round trips in a Region (a few ms each) and its TLS handshakes\' waits. Lambda may give',
    'the init phase more CPU than its share (measured by others, never documented), which would only shorten the estimate. The cost is the',
    'gateway\'s part of a lone typical answer (the cost section above) with the worker\'s GB-seconds scaled to each size.',
    '',
    '| worker memory | vCPU | estimated cold first token, before | after | lone typical answer, per 1,000 |',
    '| --- | --- | --- | --- | --- |',
    ...SIZES.map((mb) => {
      const at = (run: WorkerColdResults): string => `${((coldCpuMs(run.min) * FULL_CORE_MB) / mb / 1000).toFixed(2)} s`;
      return `| ${mb} MB${mb === cost.template.workerMb ? ' (default)' : ''} | ${(mb / FULL_CORE_MB).toFixed(3)} | ${at(before)} | ${at(after)} | ${per1000(totalAt(cost, mb))} |`;
    }),
    '',
    'How to pick the memory (`WorkerMemorySize`): with steady traffic most answers meet a warm worker, and the cold start is rare — the',
    'default keeps the cost per answer lowest. With sparse traffic (an internal tool used a few times an hour) most first questions meet a cold',
    'worker: a larger size shortens that first token in proportion, and costs in proportion on every answer, because the worker mostly waits',
    'on its model. Provisioned concurrency removes the cold start for a fixed hourly price.',
    '',
  ];
}
