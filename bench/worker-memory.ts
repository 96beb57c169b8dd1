/**
 * The worker's memory with attachments, measured as Lambda reports it ("Max Memory Used": the
 * process's peak resident set): the built bundle in a process of its own (bench/worker-rig.ts)
 * runs one SQS batch — one job without attachments; one with two distinct 3.7 MB images; four
 * such jobs in one batch, with the default attachment budget and with one that lets them all in at
 * once — started as Lambda's runtime starts Node for a 128 MB function (its heap flags, `--expose-gc`,
 * AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
 */
import { png } from '../tests/helpers/attachments';
import { CHILD_PRELUDE, startWorkerRig, type WorkerRig } from './worker-rig';

export interface WorkerMemoryCase {
  readonly name: string;
  readonly attachmentMiB: number;
  /** The child's peak resident set, MiB. */
  readonly maxRssMiB: number;
}

const CHILD = `${CHILD_PRELUDE}
const { worker } = require(process.env.WORKER_BUNDLE);
(async () => {
  failed(await worker(event(...JSON.parse(process.env.JOBS)), context));
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

const IMAGE_BYTES = 3_700_000;
const image = (seed: number): Buffer => Buffer.concat([png(), Buffer.alloc(IMAGE_BYTES - png().length, seed)]);
/** What Lambda's Node.js runtime starts Node with for a 128 MB function (its bootstrap: 5% semi space, 90% old space). */
const LAMBDA_FLAGS = ['--expose-gc', '--max-semi-space-size=6', '--max-old-space-size=115'];
const MEMORY_MB = '128';

async function batch(rig: WorkerRig, name: string, jobs: number, imagesEach: number, env: Record<string, string> = {}): Promise<WorkerMemoryCase> {
  let seed = 0;
  const slug = name.replace(/\W+/g, '-');
  const bodies: string[] = [];
  for (let j = 0; j < jobs; j += 1) {
    const ids: string[] = [];
    for (let i = 0; i < imagesEach; i += 1) ids.push(await rig.upload(image((seed += 1))));
    bodies.push(await rig.job(`mem-${slug}-${j}`, ids));
  }
  const out = JSON.parse(await rig.run(CHILD, { JOBS: JSON.stringify(bodies), AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY_MB, ...env }, LAMBDA_FLAGS)) as { maxRssKiB: number };
  return { name, attachmentMiB: (jobs * imagesEach * IMAGE_BYTES) / 2 ** 20, maxRssMiB: out.maxRssKiB / 1024 };
}

export async function measureWorkerMemory(): Promise<WorkerMemoryCase[]> {
  const rig = await startWorkerRig();
  try {
    const all = { WORKER_ATTACHMENT_BUDGET_BYTES: String(64 * 2 ** 20) };
    return [
      await batch(rig, 'one job, no attachments', 1, 0),
      await batch(rig, 'one job, two 3.7 MB images', 1, 2),
      await batch(rig, 'four such jobs in one batch, the default budget (8 MiB at 128 MB)', 4, 2),
      await batch(rig, 'four such jobs in one batch, a 64 MiB budget', 4, 2, all),
    ];
  } finally {
    await rig.stop();
  }
}

export function workerMemorySection(cases: readonly WorkerMemoryCase[]): string[] {
  const [bare, one] = cases;
  const factor = bare !== undefined && one !== undefined ? (one.maxRssMiB - bare.maxRssMiB) / one.attachmentMiB : Number.NaN;
  return [
    '## What attachments cost the worker\'s memory',
    '',
    'The built worker bundle in a process of its own (as in the cold start above), started as Lambda\'s Node.js runtime starts it for a 128 MB',
    'function (`--expose-gc`, its heap flags, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128`), runs one SQS batch against the stand-ins; its peak',
    'resident set is what Lambda reports as "Max Memory Used" (and kills the function past its memory). Each image is read from S3, checked,',
    'and sent to Bedrock base64 in the request\'s JSON.',
    '',
    '| batch | attachments | peak resident set |',
    '| --- | --- | --- |',
    ...cases.map((c) => `| ${c.name} | ${c.attachmentMiB.toFixed(1)} MiB | ${c.maxRssMiB.toFixed(0)} MiB |`),
    '',
    `An answer's attachments take about ${factor.toFixed(1)}× their size at its peak (the bytes read, their base64, the request's JSON and its body).`,
    'The worker budget (`WORKER_ATTACHMENT_BUDGET_BYTES`; by default (memory − 96 MB) / 4, 8 MiB at 128 MB) lets the answers of a batch',
    'hold their attachments one budget at a time, and collects the garbage of the last before the next reads its own; a request may carry no',
    'more than the budget. Peaks vary from run to run with the collector\'s timing; at 128 MB, requests with several large images want',
    '`WorkerMemorySize` 256 or more (the budget follows it).',
    '',
  ];
}

if (require.main === module) {
  void measureWorkerMemory().then((cases) => process.stdout.write(`${workerMemorySection(cases).join('\n')}\n`));
}
