/**
 * The cost table and the user-facing latencies, before and after, from two CostRuns of one bench
 * run (bench/cost.ts here and in the previous version). us-east-1 list prices.
 */
import type { CostRun, PerAnswer } from './cost';
import type { SmoothLagResults } from './smooth-lag';
import { MODEL_TABLE } from '../src/config/model-table';

/** What the model itself costs for the typical answer (200 tokens in, 500 out), from the model table's list prices. */
function modelCost(id: string): number {
  const prices = MODEL_TABLE[id]?.prices;
  if (prices === undefined) throw new Error(`the model table has no price for ${id}`);
  return (200 * prices.input + 500 * prices.output) / 1e6;
}

export const PRICES = {
  apiGatewayMessage: 1.0e-6,
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2e-6,
  writeUnit: 0.625e-6,
  readUnit: 0.125e-6,
  sqsRequest: 0.4e-6,
  /** CloudWatch Logs at $0.50 per GB, ~2 KB of logs and EMF per answer (estimated, not measured). */
  logsPerAnswer: 0.5 * (2048 / 2 ** 30),
  novaLite: modelCost('us.amazon.nova-lite-v1:0'),
  haiku: modelCost('us.anthropic.claude-haiku-4-5-20251001-v1:0'),
};

export interface CostParts {
  readonly apiGateway: number;
  readonly route: number;
  readonly worker: number;
  readonly dynamo: number;
  readonly sqs: number;
  readonly logs: number;
  readonly total: number;
}

/** Dollars per answer, part by part. */
export function costOf(run: CostRun, answer: PerAnswer, lone: boolean): CostParts {
  const gbSeconds = (ms: number, mb: number): number => (ms / 1000) * (mb / 1024);
  const apiGateway = answer.messages * PRICES.apiGatewayMessage;
  // The route's invocation is the only one per answer there; its duration measured as frame → accepted.
  const route = gbSeconds(run.lone.routeMs, run.template.routeMb) * PRICES.lambdaGbSecond + PRICES.lambdaRequest;
  const worker = gbSeconds(answer.workerMs, run.template.workerMb) * PRICES.lambdaGbSecond + answer.invocations * PRICES.lambdaRequest;
  const dynamo = answer.writeUnits * PRICES.writeUnit + answer.readUnits * PRICES.readUnit;
  // SendMessage per answer; the event source's ReceiveMessage and DeleteMessageBatch per invocation.
  const sqs = (1 + (lone ? 2 : 2 / answer.perInvocation)) * PRICES.sqsRequest;
  const logs = PRICES.logsPerAnswer;
  return { apiGateway, route, worker, dynamo, sqs, logs, total: apiGateway + route + worker + dynamo + sqs + logs };
}

const per1000 = (dollars: number): string => `$${(dollars * 1000).toFixed(dollars * 1000 < 0.01 ? 4 : 3)}`;
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const percentile = (values: readonly number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? Number.NaN;
const ms = (value: number): string => `${value.toFixed(0)} ms`;

function costTable(title: string, before: CostRun, after: CostRun, pick: (run: CostRun) => PerAnswer, lone: boolean): string[] {
  const b = pick(before);
  const a = pick(after);
  const cb = costOf(before, b, lone);
  const ca = costOf(after, a, lone);
  const worker = (run: CostRun, answer: PerAnswer): string =>
    `${(answer.workerMs / 1000).toFixed(2)} s at ${run.template.workerMb} MB${answer.perInvocation > 1 ? ` (an invocation of ${answer.perInvocation.toFixed(0)} answers, ÷ ${answer.perInvocation.toFixed(0)})` : ''}`;
  const dynamo = (answer: PerAnswer): string => {
    const ops = (names: string[]): number => names.reduce((n, op) => n + (answer.dynamoOps[op] ?? 0), 0);
    return `${answer.writeUnits.toFixed(1)} write units (${ops(['PutItem', 'UpdateItem', 'DeleteItem']).toFixed(1)} writes), ${answer.readUnits.toFixed(1)} read units (${ops(['GetItem', 'Query']).toFixed(1)} reads)`;
  };
  const row = (part: string, whatBefore: string, whatAfter: string, dollarsBefore: number, dollarsAfter: number): string =>
    `| ${part} | ${whatBefore} | ${per1000(dollarsBefore)} | ${whatAfter} | ${per1000(dollarsAfter)} |`;
  return [
    `**${title}**`,
    '',
    '| part | before: per answer | before: per 1,000 | after: per answer | after: per 1,000 |',
    '|---|---|---|---|---|',
    row('API Gateway messages', `1 in + ${(b.messages - 1).toFixed(1)} out`, `1 in + ${(a.messages - 1).toFixed(1)} out`, cb.apiGateway, ca.apiGateway),
    row('Lambda, route function', `1 invocation, ~${before.lone.routeMs.toFixed(0)} ms at ${before.template.routeMb} MB`, `1 invocation, ~${after.lone.routeMs.toFixed(0)} ms at ${after.template.routeMb} MB`, cb.route, ca.route),
    row('Lambda, worker', worker(before, b), worker(after, a), cb.worker, ca.worker),
    row('DynamoDB', dynamo(b), dynamo(a), cb.dynamo, ca.dynamo),
    row('SQS', lone ? 'send, receive, delete' : `send; receive and delete ÷ ${b.perInvocation.toFixed(0)}`, lone ? 'send, receive, delete' : `send; receive and delete ÷ ${a.perInvocation.toFixed(0)}`, cb.sqs, ca.sqs),
    row('CloudWatch Logs', '~2 KB (estimated)', '~2 KB (estimated)', cb.logs, ca.logs),
    row('**gateway total**', '', '', cb.total, ca.total),
    '',
  ];
}

export function costSection(before: CostRun, after: CostRun, beforeName: string, smooth: SmoothLagResults): string[] {
  const lone = costOf(after, after.lone, true);
  const perToken = lone.total - lone.apiGateway + (1 + 1 + 500 + 1) * PRICES.apiGatewayMessage;
  const latency = (name: string, pick: (run: CostRun) => readonly number[], what: string): string => {
    const b = median(pick(before));
    const a = median(pick(after));
    return `| ${name} | ${ms(b)} (${ms(Math.min(...pick(before)))}–${ms(Math.max(...pick(before)))}) | ${ms(a)} (${ms(Math.min(...pick(after)))}–${ms(Math.max(...pick(after)))}) | ${(((a - b) / b) * 100).toFixed(0)}% | ${what} |`;
  };
  const shown = (runs: SmoothLagResults['raw']): string =>
    `${ms(median(runs.map((r) => r.meanLagMs)))} behind the model; pauses p95 ${ms(percentile(runs.flatMap((r) => r.gapsMs), 95))}, longest ${ms(Math.max(...runs.flatMap((r) => r.gapsMs)))}; the last character ${ms(median(runs.map((r) => r.endLagMs)))} after the model's`;
  return [
    '## Cost and latency per answer, before and after',
    '',
    `The typical answer — one prompt, ${500} output tokens at 20 ms a token (10 s) — on the emulator on DynamoDB (dynalite), measured`,
    `on the wire in this run for this version (**after**) and for \`${beforeName}\` (**before**: the version before the cost work, run from`,
    'a copy of it by `bench/baseline.ts`, with the same bench file): every post counted at `@connections` (in 32 KB units, as API Gateway',
    'bills), the request units DynamoDB would bill (a proxy adds `ReturnConsumedCapacity` and tallies what dynalite, which sizes',
    'items as DynamoDB does, reports; a failed conditional write as one unit), each worker invocation timed, memory and BatchSize',
    'from each version\'s template. Prices: us-east-1 list (API Gateway $1.00 per million messages; Lambda arm64 $0.0000133334 per',
    'GB-second and $0.20 per million requests; DynamoDB on demand $0.625 per million write and $0.125 per million read units;',
    'SQS $0.40 per million requests; CloudWatch Logs $0.50 per GB).',
    '',
    ...costTable(`A lone answer (${after.lone.invocations.toFixed(0)} invocation each)`, before, after, (run) => run.lone, true),
    ...costTable('Answers that share a worker invocation (asked together while the worker is busy)', before, after, (run) => run.batched, false),
    '**For scale** (per 1,000 answers): one frame per token (what reference implementations do: 503 messages, the rest as after)',
    `${per1000(perToken)}; the model itself, 200 tokens in and 500 out: Bedrock Nova Lite ${per1000(PRICES.novaLite)}, Claude Haiku 4.5 ${per1000(PRICES.haiku)}.`,
    '',
    '**What the reader sees**, median of the answers above (range):',
    '',
    '| | before | after | change | measured as |',
    '|---|---|---|---|---|',
    latency('time to first chunk', (r) => r.latency.firstChunkMs, 'the client\'s frame → the first chunk at the socket (the model\'s first token at 20 ms)'),
    latency('text lag after the model ends', (r) => r.latency.endLagMs, 'the model\'s last token → the terminal frame at the socket'),
    latency('cancel', (r) => r.latency.cancelMs, '`llm/cancel` → the `cancelled` error (the worker sees the flag at its next stream read, every 500 ms)'),
    latency('resume', (r) => r.latency.resumeMs, '`llm/resume` on a new connection → `resumed` (the worker follows at its next stream read)'),
    latency('mean text lag, as it arrives', (r) => r.latency.meanTextLagMs, 'per character: arrival at the socket − made by the model'),
    latency('pause between chunk frames, median', (r) => r.latency.chunkGapsMs, 'between two chunk frames of an answer'),
    '',
    `Shown through the client (\`bench/smooth-lag.ts\`, this version): as frames arrive, ${shown(smooth.raw)}; through \`smoothEvents\``,
    `(what the chat page does), ${shown(smooth.smooth)}.`,
    '',
  ];
}

/** docs/DEPLOYING.md's cost table: this version, lone and batched, with the previous one's totals. */
export function deployingCostTable(before: CostRun, after: CostRun, beforeName: string): string[] {
  const lone = costOf(after, after.lone, true);
  const batched = costOf(after, after.batched, false);
  const was = costOf(before, before.lone, true);
  const a = after.lone;
  const writes = ['PutItem', 'UpdateItem', 'DeleteItem'].reduce((n, op) => n + (a.dynamoOps[op] ?? 0), 0);
  const reads = ['GetItem', 'Query'].reduce((n, op) => n + (a.dynamoOps[op] ?? 0), 0);
  return [
    '| part | a lone answer | per 1,000 | per 1,000 when answers share a worker |',
    '|---|---|---|---|',
    `| API Gateway messages | 1 in + ${(a.messages - 1).toFixed(0)} out (\`accepted\`, chunks, \`done\`) | ${per1000(lone.apiGateway)} | ${per1000(batched.apiGateway)} |`,
    `| Lambda, route function | 1 invocation, ~${a.routeMs.toFixed(0)} ms at ${after.template.routeMb} MB | ${per1000(lone.route)} | ${per1000(batched.route)} |`,
    `| Lambda, worker | ${(a.workerMs / 1000).toFixed(1)} s at ${after.template.workerMb} MB (waiting on the model) | ${per1000(lone.worker)} | ${per1000(batched.worker)} (${after.batched.perInvocation.toFixed(0)} per invocation) |`,
    `| DynamoDB | ${a.writeUnits.toFixed(0)} write units (${writes.toFixed(0)} writes), ${a.readUnits.toFixed(0)} read units (${reads.toFixed(0)} eventually consistent reads) | ${per1000(lone.dynamo)} | ${per1000(batched.dynamo)} |`,
    `| SQS | send, receive, delete | ${per1000(lone.sqs)} | ${per1000(batched.sqs)} |`,
    `| CloudWatch Logs | ~2 KB of logs and EMF (estimated) | ${per1000(lone.logs)} | ${per1000(batched.logs)} |`,
    `| **gateway total** | | **${per1000(lone.total)}** | **${per1000(batched.total)}** |`,
    `| the same before the cost work (\`${beforeName}\`) | ${(before.lone.messages - 1).toFixed(0)} frames out, ${before.lone.writeUnits.toFixed(0)} write units, worker at ${before.template.workerMb} MB | ${per1000(was.total)} | |`,
    `| Bedrock, Nova Lite (for scale) | 200 in / 500 out tokens | ${per1000(PRICES.novaLite)} | |`,
    `| Bedrock, Claude Haiku 4.5 (for scale) | 200 in / 500 out tokens | ${per1000(PRICES.haiku)} | |`,
  ];
}

/** docs/DYNAMODB.md's measured block: operations and units of one typical answer. */
export function dynamoCostBlock(after: CostRun): string[] {
  const a = after.lone;
  return [
    `Measured (\`npm run bench\`, the typical 10 s answer of docs/DEPLOYING.md's cost table, lone): ${Object.entries(a.dynamoOps)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([op, n]) => `${n.toFixed(0)} ${op}`)
      .join(', ')} — ${a.writeUnits.toFixed(0)} write units and ${a.readUnits.toFixed(0)} read units (the GetItems are the stream watch's, eventually consistent: half a unit each).`,
  ];
}

/** Replaces the lines between `<!-- name -->` and `<!-- /name -->` in a document. */
export function replaceBlock(document: string, name: string, lines: readonly string[]): string {
  const start = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${start} … ${end} block`);
  return `${document.slice(0, from + start.length)}\n${lines.join('\n')}\n${document.slice(to)}`;
}

/** Rows of the report's targets table for the cost work (issue 30). */
export function costTargets(before: CostRun, after: CostRun, path: { readonly roundTrips: number; readonly first?: { readonly roundTrips: number } }): string[] {
  const lone = costOf(after, after.lone, true);
  const was = costOf(before, before.lone, true);
  const within = (name: string, pick: (run: CostRun) => readonly number[]): string => {
    const b = median(pick(before));
    const a = median(pick(after));
    const change = (a - b) / b;
    return `| ${name} within 10% of before | ${ms(b)} → ${ms(a)} (${change >= 0 ? '+' : ''}${(change * 100).toFixed(0)}%) | ${change <= 0.1 ? 'yes' : '**no**'} |`;
  };
  return [
    `| gateway cost of a lone typical answer ≤ $0.06 per 1,000 | ${per1000(lone.total)} (before: ${per1000(was.total)}) | ${lone.total <= 0.06e-3 ? 'yes' : '**no**'} |`,
    `| ≤ 4 serial round trips from the frame to the model call | ${path.roundTrips}${path.first ? ` (a connection's first request: ${path.first.roundTrips})` : ''} | ${path.roundTrips <= 4 && (path.first?.roundTrips ?? 0) <= 4 ? 'yes' : '**no**'} |`,
    within('time to first chunk', (r) => r.latency.firstChunkMs),
    within('text lag after the model ends', (r) => r.latency.endLagMs),
    within('cancel latency', (r) => r.latency.cancelMs),
    within('resume latency', (r) => r.latency.resumeMs),
  ];
}
