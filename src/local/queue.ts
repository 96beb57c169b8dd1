import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../utils/logger';
import type { WorkerHandler } from '../worker';
import { md5, serveSqsRequest, type QueuedMessage } from './sqs-protocol';

/** How the local queue and its event source behave; the template sets the same in AWS. */
export interface LocalQueueOptions {
  /** A received message stays hidden this long, then is delivered again unless deleted. */
  readonly visibilityTimeoutMs: number;
  /** After this many receives a message goes to the dead-letter queue instead. */
  readonly maxReceiveCount: number;
  /** The event source's maximum concurrency: worker invocations running at once. */
  readonly maxInvocations: number;
  /** Records per invocation, at most (the template's BatchSize). */
  readonly batchSize: number;
  /** The worker's timeout: an invocation still running then counts as failed. */
  readonly workerTimeoutMs: number;
}


const ACCOUNT = '000000000000';

/**
 * An SQS standard queue with a Lambda event source in front of the worker, in-process: it
 * speaks SQS's JSON protocol for SendMessage (so the app's real SQS client sends to it), and
 * delivers each message to the worker as an `SQSEvent` of one record with SQS's semantics —
 * at most `maxInvocations` invocations at once, redelivery after the visibility timeout when
 * an invocation fails or reports the record as failed, the dead-letter queue after
 * `maxReceiveCount` receives, and the worker's timeout.
 */
export class LocalQueue {
  readonly url: string;
  /** Messages moved to the dead-letter queue, oldest first. */
  readonly deadLetters: QueuedMessage[] = [];
  /** How many records each invocation carried, in order (for tests and benchmarks). */
  readonly batchSizes: number[] = [];
  private readonly messages: QueuedMessage[] = [];
  private readonly running = new Set<Promise<void>>();
  private worker: WorkerHandler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    origin: string,
    readonly name: string,
    private readonly options: LocalQueueOptions,
    private readonly log: Logger,
  ) {
    this.url = `${origin}/${ACCOUNT}/${name}`;
  }

  /** Starts delivering to the worker. */
  attach(worker: WorkerHandler): void {
    this.worker = worker;
    this.pump();
  }

  /** Serves `POST /` with `X-Amz-Target: AmazonSQS.*` (SendMessage); returns false for any other request. */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    return serveSqsRequest(req, res, this.url, (body, attributes) => this.send(body, attributes));
  }

  /** Queues a message, as SendMessage does. */
  send(body: string, attributes: QueuedMessage['attributes'] = {}): string {
    const now = Date.now();
    const message: QueuedMessage = { messageId: randomUUID(), body, attributes, sentAt: now, receiveCount: 0, firstReceivedAt: 0, visibleAt: now };
    this.messages.push(message);
    this.pump();
    return message.messageId;
  }

  /** Messages waiting or in flight, and invocations running. */
  get depth(): { readonly messages: number; readonly invocations: number } {
    return { messages: this.messages.length, invocations: this.running.size };
  }

  /** Stops delivering; resolves when running invocations end or `waitMs` passes. */
  async stop(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    while ((this.messages.length > 0 || this.running.size > 0) && Date.now() < deadline) {
      await new Promise((tick) => setTimeout(tick, 20));
    }
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise((tick) => (timer = setTimeout(tick, Math.max(0, deadline - Date.now()))));
    await Promise.race([Promise.allSettled([...this.running]), giveUp]);
    clearTimeout(timer);
  }

  /**
   * Starts invocations for visible messages — up to `batchSize` records each, as the event
   * source batches them (with no batching window: what is visible now goes now) — up to the
   * concurrency limit, and wakes for the next.
   */
  private pump(): void {
    if (this.stopped || this.worker === undefined) return;
    const now = Date.now();
    let batch: QueuedMessage[] = [];
    for (const message of [...this.messages]) {
      if (this.running.size >= this.options.maxInvocations) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.messages.splice(this.messages.indexOf(message), 1);
        this.deadLetters.push(message);
        this.log.warn({ messageId: message.messageId, receiveCount: message.receiveCount }, 'message moved to the dead-letter queue');
        continue;
      }
      batch.push(message);
      if (batch.length === this.options.batchSize) {
        this.deliver(batch, now);
        batch = [];
      }
    }
    if (batch.length > 0 && this.running.size < this.options.maxInvocations) this.deliver(batch, now);
    clearTimeout(this.timer);
    const next = Math.min(...this.messages.filter((m) => m.visibleAt > now).map((m) => m.visibleAt));
    if (Number.isFinite(next)) this.timer = setTimeout(() => this.pump(), next - now).unref();
  }

  private deliver(batch: readonly QueuedMessage[], now: number): void {
    this.batchSizes.push(batch.length);
    for (const message of batch) {
      message.receiveCount += 1;
      message.firstReceivedAt ||= now;
      message.visibleAt = now + this.options.visibilityTimeoutMs;
    }
    const invocation = this.invoke(batch, now).then((done) => {
      // Each record settles on its own: the finished ones are deleted, the failed ones come back.
      for (const message of done) {
        const at = this.messages.indexOf(message);
        if (at >= 0) this.messages.splice(at, 1);
      }
    });
    this.running.add(invocation);
    void invocation.finally(() => {
      this.running.delete(invocation);
      this.pump();
    });
  }

  /** One worker invocation of a batch; the records that succeeded. */
  private async invoke(batch: readonly QueuedMessage[], now: number): Promise<QueuedMessage[]> {
    const deadline = now + this.options.workerTimeoutMs;
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((done) => {
      timeout = setTimeout(() => done('timeout'), this.options.workerTimeoutMs);
    });
    const ids = batch.map((message) => message.messageId);
    try {
      const run = (this.worker as WorkerHandler)(
        { Records: batch.map((message) => this.record(message)) } satisfies SQSEvent,
        { awsRequestId: randomUUID(), functionName: 'ws-llm-gateway-worker-local', getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) },
      );
      const result: SQSBatchResponse | 'timeout' = await Promise.race([run, timedOut]);
      if (result === 'timeout') {
        // Lambda would stop the sandbox here; in-process the promise runs on, unobserved.
        run.catch(() => undefined);
        this.log.error({ messageIds: ids }, 'worker timed out; its messages will be delivered again');
        return [];
      }
      const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
      return batch.filter((message) => !failed.has(message.messageId));
    } catch (error) {
      this.log.error({ err: error, messageIds: ids }, 'worker invocation failed; its messages will be delivered again');
      return [];
    } finally {
      clearTimeout(timeout);
    }
  }

  private record(message: QueuedMessage): SQSRecord {
    const messageAttributes: SQSRecord['messageAttributes'] = {};
    for (const [name, value] of Object.entries(message.attributes)) {
      messageAttributes[name] = { dataType: value.DataType, ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}) };
    }
    return {
      messageId: message.messageId,
      receiptHandle: `${message.messageId}#${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
      },
      messageAttributes,
      md5OfBody: md5(message.body),
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:local:${ACCOUNT}:${this.name}`,
      awsRegion: 'local',
    };
  }
}
