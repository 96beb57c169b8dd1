import messageFixture from '../fixtures/events/message.json';
import { MockChatModel } from '../../src/llm/mock';
import type { ChatModel } from '../../src/llm/chat-model';
import type { Job } from '../../src/models/job';
import type { WsEvent } from '../../src/utils/lambda';
import { EmfMetrics, METRICS } from '../../src/utils/metrics';
import { sqsRecord } from '../helpers/direct-queue';
import { FaultyStreamStore } from '../helpers/faulty-stores';
import { createUnitGateway, type UnitGateway } from '../helpers/unit-gateway';

const CONNECTION = messageFixture.requestContext.connectionId;

function streamEvent(requestId: string, extra: Record<string, unknown> = {}): WsEvent {
  const body = JSON.stringify({ action: 'llm/stream', requestId, data: { messages: [{ role: 'user', content: 'Hi' }], ...extra } });
  return { ...messageFixture, body, requestContext: { ...messageFixture.requestContext, routeKey: 'llm/stream' } } as WsEvent;
}

/** A model that counts its calls, so a test can tell whether a job ran the model at all. */
function countingModel(inner: ChatModel): ChatModel & { calls: number } {
  const model = {
    calls: 0,
    stream(request: Parameters<ChatModel['stream']>[0], signal: AbortSignal) {
      model.calls += 1;
      return inner.stream(request, signal);
    },
  };
  return model;
}

describe('the worker entry fed SQS events', () => {
  let unit: UnitGateway;
  afterEach(() => unit.gateway.app.close());

  it('streams a job once: a redelivery of the same message is a duplicate that sends nothing', async () => {
    // Prepare
    unit = await createUnitGateway();
    await unit.gateway.handler(streamEvent('r-1'));
    const firstRun = unit.sender.framesFor(CONNECTION);
    const job = unit.queue.jobs[0]!;
    // Act: SQS delivers the same message again (at-least-once), after the answer ended.
    const again = await unit.gateway.worker({ Records: [sqsRecord(JSON.stringify(job), 2)] });
    // Assess
    expect(firstRun.at(-1)).toMatchObject({ type: 'done', requestId: 'r-1' });
    expect(again.batchItemFailures).toEqual([]);
    expect(unit.sender.framesFor(CONNECTION)).toHaveLength(firstRun.length);
    expect(unit.metrics.total(METRICS.duplicateJobs)).toBe(1);
    expect(unit.requests.size).toBe(0);
  });

  it('runs two deliveries of one job at once as one answer', async () => {
    const model = countingModel(new MockChatModel({ tokenDelayMs: 2, answerTokens: 10 }));
    unit = await createUnitGateway({}, { model });
    unit.queue.attach(() => Promise.resolve({ batchItemFailures: [] })); // hold the job back
    await unit.gateway.handler(streamEvent('r-2'));
    const body = JSON.stringify(unit.queue.jobs[0]);
    const results = await Promise.all([
      unit.gateway.worker({ Records: [sqsRecord(body, 1)] }),
      unit.gateway.worker({ Records: [sqsRecord(body, 1)] }),
    ]);
    expect(results.flatMap((r) => r.batchItemFailures)).toEqual([]);
    expect(model.calls).toBe(1);
    const frames = unit.sender.framesFor(CONNECTION);
    expect(frames.filter((f) => f.type === 'accepted')).toHaveLength(1);
    expect(frames.filter((f) => f.type === 'done')).toHaveLength(1);
  });

  it('reports only the records that are not jobs, so SQS retries them into the dead-letter queue', async () => {
    unit = await createUnitGateway();
    unit.queue.attach(() => Promise.resolve({ batchItemFailures: [] }));
    await unit.gateway.handler(streamEvent('r-3'));
    const good = sqsRecord(JSON.stringify(unit.queue.jobs[0]), 1, 'good');
    const notJson = sqsRecord('{not json', 1, 'not-json');
    const otherVersion = sqsRecord(JSON.stringify({ ...unit.queue.jobs[0], version: 2 }), 1, 'v2');
    const result = await unit.gateway.worker({ Records: [good, notJson, otherVersion] });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['not-json', 'v2']);
    expect(unit.sender.framesFor(CONNECTION).at(-1)).toMatchObject({ type: 'done', requestId: 'r-3' });
  });

  it('retries a job the store cannot claim, and tells the client and frees its slots on the last delivery', async () => {
    const streams = new FaultyStreamStore();
    unit = await createUnitGateway({ MAX_CONCURRENT_PER_CONNECTION: '1' }, { streams });
    unit.queue.attach(() => Promise.resolve({ batchItemFailures: [] }));
    await unit.gateway.handler(streamEvent('r-4'));
    const body = JSON.stringify(unit.queue.jobs[0]);
    expect(unit.counters.total('conc:')).toBe(2); // the connection's slot and the user's
    streams.failClaims = true;
    const early = await unit.gateway.worker({ Records: [sqsRecord(body, 1, 'm')] });
    expect(early.batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
    expect(unit.sender.framesFor(CONNECTION)).toHaveLength(1); // accepted only: the queue will try again
    const last = await unit.gateway.worker({ Records: [sqsRecord(body, 3, 'm')] });
    expect(last.batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
    expect(unit.sender.framesFor(CONNECTION).at(-1)).toMatchObject({ type: 'error', requestId: 'r-4', code: 'internal_error', retryable: true });
    // The connection's one slot (and the user's) are free again.
    expect(unit.counters.total('conc:')).toBe(0);
  });

  it('ends a generation with upstream_timeout before the invocation would time out, after the text so far', async () => {
    unit = await createUnitGateway({ WORKER_TIME_MARGIN_MS: '0' }, { model: new MockChatModel({ tokenDelayMs: 10, answerTokens: 10_000 }) });
    unit.queue.attach(() => Promise.resolve({ batchItemFailures: [] }));
    await unit.gateway.handler(streamEvent('r-5'));
    const result = await unit.gateway.worker(
      { Records: [sqsRecord(JSON.stringify(unit.queue.jobs[0]))] },
      { getRemainingTimeInMillis: () => 300 },
    );
    expect(result.batchItemFailures).toEqual([]);
    const frames = unit.sender.framesFor(CONNECTION);
    expect(frames.filter((f) => f.type === 'chunk').length).toBeGreaterThan(0);
    expect(frames.at(-1)).toMatchObject({ type: 'error', code: 'upstream_timeout', requestId: 'r-5' });
    expect(unit.requests.size).toBe(0);
  });

  it('never calls the model for a job cancelled while it waited in the queue', async () => {
    const model = countingModel(new MockChatModel({ tokenDelayMs: 0, answerTokens: 5 }));
    unit = await createUnitGateway({}, { model });
    unit.queue.attach(() => Promise.resolve({ batchItemFailures: [] }));
    await unit.gateway.handler(streamEvent('r-6'));
    const cancel = { ...messageFixture, body: '{"action":"llm/cancel","requestId":"r-6"}', requestContext: { ...messageFixture.requestContext, routeKey: 'llm/cancel' } } as WsEvent;
    await unit.gateway.handler(cancel);
    await unit.gateway.worker({ Records: [sqsRecord(JSON.stringify(unit.queue.jobs[0]))] });
    expect(model.calls).toBe(0);
    expect(unit.sender.framesFor(CONNECTION).map((f) => f.type)).toEqual(['accepted', 'error']);
    expect(unit.sender.framesFor(CONNECTION).at(-1)).toMatchObject({ code: 'cancelled', requestId: 'r-6' });
  });

  it('records the metrics of an answer and flushes them once per invocation', async () => {
    unit = await createUnitGateway();
    await unit.gateway.handler(streamEvent('r-7'));
    expect(unit.metrics.total(METRICS.messages)).toBe(1);
    expect(unit.metrics.total(METRICS.outputTokens)).toBe(12);
    expect(unit.metrics.total(METRICS.inputTokens)).toBeGreaterThan(0);
    expect(unit.metrics.values.some((v) => v.name === METRICS.timeToFirstToken)).toBe(true);
    expect(unit.metrics.values.some((v) => v.name === METRICS.streamDuration)).toBe(true);
    expect(unit.metrics.values.some((v) => v.name === METRICS.queueWait)).toBe(true);
    // One flush for the worker invocation, one for the route invocation around it.
    expect(unit.metrics.flushes).toBe(2);
    await unit.gateway.handler({ ...streamEvent('x'), body: 'not json' });
    expect(unit.metrics.total(METRICS.errors, 'code=invalid_json')).toBe(1);
  });

  it('puts in the job what the worker needs: request, metadata, the admission ticket and timestamps', async () => {
    unit = await createUnitGateway();
    await unit.gateway.handler(streamEvent('r-8', { metadata: { trace: 't' } }));
    const job: Job = unit.queue.jobs[0]!;
    expect(job).toMatchObject({ version: 1, mode: 'stream', connectionId: CONNECTION, requestId: 'r-8', metadata: { trace: 't' } });
    expect(job.ticket.slots.length).toBeGreaterThan(0);
    expect(job.queuedAt).toBeGreaterThanOrEqual(job.receivedAt);
  });
  it('ends the request of a queue message that is not a runnable job: one error frame, everything released, the message kept for a human', async () => {
    unit = await createUnitGateway();
    unit.queue.attach(() => Promise.resolve({ batchItemFailures: [] })); // hold the job back
    await unit.gateway.handler(streamEvent('r-bad'));
    const job = unit.queue.jobs[0]!;
    const damaged = { ...job, request: { ...job.request, messages: 'not messages' } };
    const results = [
      await unit.gateway.worker({ Records: [sqsRecord(JSON.stringify(damaged), 1, 'm-bad')] }),
      await unit.gateway.worker({ Records: [sqsRecord(JSON.stringify(damaged), 2, 'm-bad')] }),
    ];
    expect(results.map((r) => r.batchItemFailures)).toEqual([[{ itemIdentifier: 'm-bad' }], [{ itemIdentifier: 'm-bad' }]]);
    const frames = unit.sender.framesFor(CONNECTION);
    expect(frames.map((f) => f.type)).toEqual(['accepted', 'error']);
    expect(frames[1]).toMatchObject({ requestId: 'r-bad', code: 'internal_error', retryable: false });
    expect(unit.requests.size).toBe(0);
    expect(unit.counters.total('conc:')).toBe(0);
  });

  it('sends a message that names no request to the dead-letter queue, touching nothing', async () => {
    unit = await createUnitGateway();
    const result = await unit.gateway.worker({ Records: [sqsRecord('{"hello":"world"}', 1, 'm-junk'), sqsRecord('not json', 1, 'm-text')] });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-junk' }, { itemIdentifier: 'm-text' }]);
    expect(unit.sender.sent).toEqual([]);
  });
});

describe('EMF metrics through Powertools', () => {
  it('serializes counts and timings under the gateway namespace with the service dimension', () => {
    const metrics = new EmfMetrics('ws-llm-gateway-test');
    metrics.count(METRICS.messages);
    metrics.milliseconds(METRICS.timeToFirstToken, 42);
    const doc = metrics.peek() as { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> }; service: string; TimeToFirstToken: number };
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe('WsLlmGateway');
    expect(directive?.Dimensions).toEqual([['service']]);
    expect(directive?.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'Messages', Unit: 'Count' },
        { Name: 'TimeToFirstToken', Unit: 'Milliseconds' },
      ]),
    );
    expect(doc.service).toBe('ws-llm-gateway-test');
    expect(doc.TimeToFirstToken).toBe(42);
  });
});
