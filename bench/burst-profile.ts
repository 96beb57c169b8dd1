/**
 * Where the emulator's time goes in a burst of pings: the emulator (a child process, as in the
 * load benchmark) runs under V8's sampling profiler; after one warm-up burst, the samples taken
 * during a second burst of `count` pings are grouped by what ran them.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_LIMITS } from './env';
import { ms } from './format';
import { burst } from './load';
import { startChild } from './processes';

export interface BurstProfile {
  readonly count: number;
  /** CPU time (not idle) during the measured burst, in ms. */
  readonly busyMs: number;
  /** Share of busy time per group, largest first. */
  readonly groups: readonly { readonly name: string; readonly ms: number }[];
}

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string } }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Which part of the stack a frame's script belongs to (first match wins). */
const GROUPS: readonly [string, RegExp][] = [
  ['AWS SDK: middleware, endpoint, serialization, retry', /node_modules\/@(smithy|aws-sdk)\/(?!signature-v4|node-http-handler)/],
  ['AWS SDK: SigV4 signing (with its hashing)', /@smithy\/signature-v4|internal\/crypto\/hash/],
  ['random ids (the emulator\'s, the adapter\'s per-invocation token)', /internal\/crypto\/random/],
  ['AWS SDK: HTTP handler', /@smithy\/node-http-handler/],
  ['Node HTTP client and server (both ends of every post)', /node:_http_|^node:http|internal\/http/],
  ['Fastify, light-my-request, @fastify/aws-lambda', /node_modules\/(fastify|light-my-request|@fastify|find-my-way|avvio)/],
  ['ws (frames in and out)', /node_modules\/ws\//],
  ['logging (pino)', /node_modules\/(pino|@pinojs|sonic-boom)/],
  ['our code: the emulator (src/local)', /\/src\/local\//],
  ['our code: handlers, services, delivery, stores', /\/src\//],
  ['sockets, streams, buffers, events, timers', /^node:(net|events|buffer|stream|timers|internal\/(streams|stream_base|timers|process|async_hooks|net))|^(writeUtf8String|writeLatin1String|writeBuffer|writev|utf8Write|latin1Write|close|runMicrotasks)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['JSON parsing (frames, SDK responses)', /^parse$|secure-json-parse/],
];

function groupOf(functionName: string, url: string): string {
  const key = url || functionName;
  return GROUPS.find(([, pattern]) => pattern.test(key))?.[0] ?? 'everything else (V8 built-ins, other Node internals)';
}

export async function profileBurst(count = 1000): Promise<BurstProfile> {
  const dir = mkdtempSync(join(tmpdir(), 'burst-prof-'));
  try {
    const gateway = await startChild(
      'local-server.ts',
      { PORT: '0', LOG_LEVEL: 'warn', ...NO_LIMITS, WORKER_MAX_INVOCATIONS: String(count) },
      /WebSocket\s+(ws:\/\/\S+)/,
      ['--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir', dir],
    );
    let window: [number, number];
    try {
      const ping = (i: number): string => JSON.stringify({ action: 'ping', requestId: `p-${i}` });
      await burst(gateway, count, ping);
      // The profile's clock is the monotonic clock (µs), as hrtime's.
      const from = Number(process.hrtime.bigint() / 1000n);
      await burst(gateway, count, ping);
      window = [from, Number(process.hrtime.bigint() / 1000n)];
    } finally {
      await gateway.stop(); // the profile is written as the process exits
    }
    // The main thread's profile is the largest (tsx's loader thread writes one too).
    const files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile')).map((file) => join(dir, file));
    const text = files.map((file) => readFileSync(file, 'utf8')).sort((a, b) => b.length - a.length)[0];
    if (text === undefined) throw new Error('the emulator wrote no CPU profile');
    return summarize(JSON.parse(text) as CpuProfile, window, count);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarize(profile: CpuProfile, [from, to]: [number, number], count: number): BurstProfile {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const totals = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((sample, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const frame = frames.get(sample);
    if (at < from || at > to || frame === undefined || frame.functionName === '(idle)' || frame.functionName === '(program)') return;
    const name = groupOf(frame.functionName, frame.url.replace(/^file:\/\//, ''));
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const groups = [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { count, busyMs: groups.reduce((sum, g) => sum + g.ms, 0), groups };
}

/** The report's section: the profile, and what it says about the 10× target. */
export function burstProfileSection(profile: BurstProfile, gatewayP50Ms: number, echoP50Ms: number): string[] {
  const perPing = profile.busyMs / profile.count;
  const share = (pattern: RegExp): number => profile.groups.filter((g) => pattern.test(g.name)).reduce((sum, g) => sum + g.ms, 0) / profile.busyMs;
  const posting = share(/AWS SDK|Node HTTP|sockets/);
  return [
    '## Where the emulator\'s time goes in a burst',
    '',
    `The emulator (a child process, as above) under V8's sampling profiler (200 µs): after one warm-up burst, the`,
    `samples of a second burst of ${profile.count} pings, grouped by the script that ran (\`bench/burst-profile.ts\`). CPU`,
    `busy in the burst: ${profile.busyMs.toFixed(0)} ms, ${perPing.toFixed(2)} ms per ping (with the profiler's own overhead).`,
    '',
    '| what ran | CPU | share |',
    '|---|---|---|',
    ...profile.groups.map((g) => `| ${g.name} | ${g.ms.toFixed(0)} ms | ${((g.ms / profile.busyMs) * 100).toFixed(1)}% |`),
    '',
    `A ping is one event through the adapter and Fastify, then one \`PostToConnection\`: the real SDK client signs`,
    'it and sends it over HTTP to the emulator\'s own `@connections` endpoint, which the same thread then serves',
    `and turns into a WebSocket frame. The SDK, Node's HTTP and the sockets (these posts' and the WebSocket's) are ${(posting * 100).toFixed(0)}% of the CPU:`,
    'that path is what makes the SDK\'s behaviour the one AWS sees, so it stays. The echo only reads and writes',
    `a frame. At 10× the echo (${ms(10 * echoP50Ms)} for the burst) a ping could use about ${((10 * echoP50Ms) / profile.count).toFixed(2)} ms of CPU; the posting`,
    `path alone takes about ${(posting * perPing).toFixed(2)} ms, so on one thread the target is out of reach even with our code and`,
    `Fastify at zero (warm burst today: ${ms(gatewayP50Ms)} p50). Cut already: random ids drawn from a pool, one child`,
    'logger per event instead of two, and no per-post work the SDK does not need (clients built once, keep-alive).',
    'Reaching it would take running invocations on several threads, as Lambda runs them in separate',
    'processes — on this two-core machine that could give at most 2×.',
    '',
  ];
}
