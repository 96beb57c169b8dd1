import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../utils/logger';
import type { WorkerHandler } from '../worker';
import { md5, serveSqsRequest } from './sqs-protocol';

/** How the local queue and its event source behave; the template sets the same in AWS. */
export interface LocalQueueOptions {
  /** A received message stays hidden this long, then is delivered again unless deleted. */
  readonly visibilityTimeoutMs: number;
  /** After this many receives a message goes to the dead-letter queue instead. */
  readonly maxReceiveCount: number;
  /** The event source's maximum concurrency: worker invocations running at once. */
  readonly maxConcurrency: number;
  /** The worker's timeout: an invocation still running then counts as failed. */
  readonly workerTimeoutMs: number;
}

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, { readonly DataType: string; readonly StringValue?: string }>>;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt: number;
  visibleAt: number;
}

const ACCOUNT = '000000000000';

/**
 * An SQS standard queue with a Lambda event source in front of the worker, in-process: it
 * speaks SQS's JSON protocol for SendMessage (so the app's real SQS client sends to it), and
 * delivers each message to the worker as an `SQSEvent` of one record with SQS's semantics —
 * at most `maxConcurrency` invocations at once, redelivery after the visibility timeout when
 * an invocation fails or reports the record as failed, the dead-letter queue after
 * `maxReceiveCount` receives, and the worker's timeout.
 */
export class LocalQueue {
  readonly url: string;
  /** Messages moved to the dead-letter queue, oldest first. */
  readonly deadLetters: QueuedMessage[] = [];
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

  /** Starts invocations for visible messages, up to the concurrency limit, and wakes for the next. */
  private pump(): void {
    if (this.stopped || this.worker === undefined) return;
    const now = Date.now();
    for (const message of [...this.messages]) {
      if (this.running.size >= this.options.maxConcurrency) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.messages.splice(this.messages.indexOf(message), 1);
        this.deadLetters.push(message);
        this.log.warn({ messageId: message.messageId, receiveCount: message.receiveCount }, 'message moved to the dead-letter queue');
        continue;
      }
      this.deliver(message, now);
    }
    clearTimeout(this.timer);
    const next = Math.min(...this.messages.filter((m) => m.visibleAt > now).map((m) => m.visibleAt));
    if (Number.isFinite(next)) this.timer = setTimeout(() => this.pump(), next - now).unref();
  }

  private deliver(message: QueuedMessage, now: number): void {
    message.receiveCount += 1;
    message.firstReceivedAt ||= now;
    message.visibleAt = now + this.options.visibilityTimeoutMs;
    const invocation = this.invoke(message, now).then((ok) => {
      if (ok) {
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

  /** One worker invocation; true when the record succeeded. */
  private async invoke(message: QueuedMessage, now: number): Promise<boolean> {
    const deadline = now + this.options.workerTimeoutMs;
    const record = this.record(message);
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((done) => {
      timeout = setTimeout(() => done('timeout'), this.options.workerTimeoutMs);
    });
    try {
      const run = (this.worker as WorkerHandler)(
        { Records: [record] } satisfies SQSEvent,
        { awsRequestId: randomUUID(), functionName: 'ws-llm-gateway-worker-local', getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) },
      );
      const result: SQSBatchResponse | 'timeout' = await Promise.race([run, timedOut]);
      if (result === 'timeout') {
        // Lambda would stop the sandbox here; in-process the promise runs on, unobserved.
        run.catch(() => undefined);
        this.log.error({ messageId: message.messageId }, 'worker timed out; the message will be delivered again');
        return false;
      }
      return !result.batchItemFailures.some((failure) => failure.itemIdentifier === message.messageId);
    } catch (error) {
      this.log.error({ err: error, messageId: message.messageId }, 'worker invocation failed; the message will be delivered again');
      return false;
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
