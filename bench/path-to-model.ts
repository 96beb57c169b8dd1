/**
 * The path from a client's frame to the model call, for one lone answer on DynamoDB (dynalite
 * through the counting proxy): each request on the wire before the model is called — DynamoDB
 * operations, the `accepted` post at `@connections`, the queue hop — in order, with the local
 * milliseconds. Requests that overlap in time count as one round trip; the rest are serial.
 */
import { MockChatModel } from '../src/llm/mock';
import { loadLocalServerConfig } from '../src/config/local';
import { startDynalite } from '../src/local/dynalite';
import { startLocalGateway } from '../src/local/emulator';
import { countingProxy } from '../tests/helpers/dynamo';
import { TestClient } from '../tests/helpers/ws-client';
import { Stopwatch } from '../tests/helpers/stopwatch-model';

interface Step {
  readonly what: string;
  readonly start: number;
  readonly end: number;
}

export interface PathResults {
  /** Each request before the model call, from the client's frame (ms). */
  readonly steps: readonly Step[];
  /** Groups of overlapping requests: the serial round trips. */
  readonly roundTrips: number;
  /** From the client's frame to the model call (local, loopback). */
  readonly toModelMs: number;
  /** The connection's first request (its items may not exist yet), when measured. */
  readonly first?: PathResults;
}


export async function measurePathToModel(rounds = 5): Promise<PathResults> {
  const dynalite = await startDynalite();
  const proxy = await countingProxy(dynalite.endpoint);
  const model = new Stopwatch(new MockChatModel({ tokenDelayMs: 1, answerTokens: 5 }));
  const posts: Step[] = [];
  const local = await startLocalGateway({
    server: loadLocalServerConfig({ PORT: '0', HOST: '127.0.0.1' }),
    env: { LOG_LEVEL: 'silent', DYNAMODB_ENDPOINT: proxy.endpoint, RATE_LIMIT_REQUESTS_PER_MINUTE: '10000' },
    deps: { model },
    beforePost: (_id, data) => {
      if (data.toString('utf8').includes('"type":"accepted"')) posts.push({ what: 'PostToConnection (accepted)', start: performance.now(), end: performance.now() });
      return undefined;
    },
  });
  try {
    const client = await TestClient.connect(local.url);
    client.send({ action: 'ping', requestId: 'settle' });
    await client.waitFor((frames) => frames.some((f) => f.type === 'pong'));
    let best: PathResults | undefined;
    let first: PathResults | undefined;
    // The first round pays each item's creation (a new connection's slots); later ones are the steady state.
    for (let round = 0; round < rounds; round += 1) {
      proxy.calls.length = 0;
      posts.length = 0;
      const id = `path-${round}`;
      const sentAt = performance.now();
      client.send({ action: 'llm/stream', requestId: id, data: { messages: [{ role: 'user', content: id }] } });
      await client.terminal(id, 30_000);
      const before = [...proxy.calls.filter((c) => c.start < model.calledAt).map((c) => ({ what: c.operation, start: c.start, end: c.end })), ...posts.filter((p) => p.start < model.calledAt)].sort((a, b) => a.start - b.start);
      // The queue hop: from the `accepted` post to the worker's first request.
      const accepted = posts[0];
      const afterAccepted = before.find((s) => accepted !== undefined && s.start > accepted.start && s.what !== accepted.what);
      const queue = accepted && afterAccepted ? [{ what: 'SendMessage → the worker (the queue hop)', start: accepted.end, end: afterAccepted.start }] : [];
      const steps = [...before, ...queue].sort((a, b) => a.start - b.start).map((s) => ({ what: s.what, start: s.start - sentAt, end: s.end - sentAt }));
      let trips = 0;
      let reach = Number.NEGATIVE_INFINITY;
      for (const step of steps) {
        if (step.start >= reach) trips += 1;
        reach = Math.max(reach, step.end);
      }
      const result = { steps, roundTrips: trips, toModelMs: model.calledAt - sentAt };
      if (round === 0) first = result;
      else if (best === undefined || result.toModelMs < best.toModelMs) best = result;
    }
    await client.close();
    if (best === undefined) throw new Error('path-to-model bench: no round measured');
    return { ...best, ...(first ? { first } : {}) };
  } finally {
    await local.stop();
    await proxy.stop();
    await dynalite.stop();
  }
}

/** The report's section on the path to the model call, with the previous version's when given. */
export function pathToModelSection(path: PathResults, before?: { readonly name: string; readonly path: PathResults }): string[] {
  const firstOf = (p: PathResults): string => (p.first ? `; a connection's first request: ${p.first.roundTrips} (${p.first.toModelMs.toFixed(1)} ms)` : '');
  return [
    '## From the client\'s frame to the model call',
    '',
    `One lone answer on DynamoDB (dynalite through a counting proxy), the best of four after a warm-up: each request on the wire before the model is called, in order. Overlapping requests count as one round trip. **${path.roundTrips} serial round trips**, ${path.toModelMs.toFixed(1)} ms on loopback${firstOf(path)}. In AWS each round trip is a few ms on the network, where dynalite here answers one request at a time, so parallel requests take longer each than they would there.`,
    ...(before
      ? ['', `Before (\`${before.name}\`, the same bench run in a copy of it): **${before.path.roundTrips} serial round trips**, ${before.path.toModelMs.toFixed(1)} ms${firstOf(before.path)}: ${before.path.steps.map((s) => s.what).join(' → ')}.`]
      : []),
    '',
    '| # | request | from the frame (ms) | took (ms) |',
    '|---|---|---|---|',
    ...path.steps.map((s, i) => `| ${i + 1} | ${s.what} | ${s.start.toFixed(1)} | ${(s.end - s.start).toFixed(1)} |`),
    '',
  ];
}

if (require.main === module) {
  measurePathToModel().then(
    (path) => process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(path)}\n` : `${pathToModelSection(path).join('\n')}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
