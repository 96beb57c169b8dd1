import { MockChatModel } from '../../src/llm/mock';
import type { LocalGateway } from '../../src/local/emulator';
import { slowProxy, startDynalite, type DynamoProxy } from '../helpers/dynamo';
import { startLocal } from '../helpers/local';
import { TestClient } from '../helpers/ws-client';
import { Stopwatch } from '../helpers/stopwatch-model';


/** Requests that overlap in time count as one round trip; the rest follow one another. */
function roundTrips(calls: ReadonlyArray<{ start: number; end: number }>): number {
  let trips = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const call of [...calls].sort((a, b) => a.start - b.start)) {
    if (call.start >= reach) trips += 1;
    reach = Math.max(reach, call.end);
  }
  return trips;
}

/**
 * The DynamoDB requests between a client's frame and the model call, on the wire: every one is
 * held 150 ms by the proxy, so requests sent together overlap whatever the machine's load, and
 * requests that wait on each other cannot. What the design promises: the route's writes go
 * out together, and the worker's claim is its only request before the model (two DynamoDB
 * round trips; with `accepted` and SendMessage, four in all) — also for a connection's first
 * request, whose slot sets `$connect` made. The admission's three confirmations go out beside
 * `accepted` and the queue, never before them, so they add writes but no round trip.
 */
describe('from the client’s frame to the model call, on DynamoDB', () => {
  let dynalite: Awaited<ReturnType<typeof startDynalite>>;
  let proxy: DynamoProxy;
  let local: LocalGateway;
  const model = new Stopwatch(new MockChatModel({ tokenDelayMs: 1, answerTokens: 3 }));

  beforeAll(async () => {
    dynalite = await startDynalite();
    proxy = await slowProxy(dynalite.endpoint, 150);
    local = await startLocal({ DYNAMODB_ENDPOINT: proxy.endpoint, CANCEL_CHECK_INTERVAL_MS: '0' }, { deps: { model } });
  });
  afterAll(async () => {
    await local.stop();
    await proxy.stop();
    await dynalite.stop();
  });

  it('takes two DynamoDB round trips: the admission writes together, then the claim — from the first request of a connection on', async () => {
    const client = await TestClient.connect(local.url);
    try {
      for (const id of ['first', 'second', 'third']) {
        proxy.calls.length = 0;
        model.calledAt = Number.NaN;
        client.send({ action: 'llm/stream', requestId: id, data: { messages: [{ role: 'user', content: id }] } });
        expect((await client.terminal(id, 20_000)).type).toBe('done');
        const before = proxy.calls.filter((call) => call.start < model.calledAt);
        expect(before.map((call) => call.operation).sort()).toEqual(['PutItem', 'PutItem', ...Array<string>(7).fill('UpdateItem')]);
        expect(roundTrips(before)).toBe(2);
      }
    } finally {
      await client.close();
    }
  });
});
