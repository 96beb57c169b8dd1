import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { Job } from '../../src/models/job';
import type { JobQueue } from '../../src/queue/job-queue';
import type { WorkerHandler } from '../../src/worker';

/** An SQS record as Lambda's event source delivers it. */
export function sqsRecord(body: string, receiveCount = 1, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'AROAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jobs',
    awsRegion: 'us-east-1',
  };
}

/**
 * A JobQueue for unit tests of the handler: each job is handed at once to the worker entry as an
 * SQS event, and `enqueue` resolves when the worker has finished — so one handler call covers
 * the whole request. It keeps every job, so a test can deliver one again.
 */
export class DirectQueue implements JobQueue {
  readonly jobs: Job[] = [];
  private worker: WorkerHandler | undefined;

  attach(worker: WorkerHandler): void {
    this.worker = worker;
  }

  async enqueue(job: Job): Promise<void> {
    this.jobs.push(job);
    if (!this.worker) throw new Error('DirectQueue: no worker attached');
    const event: SQSEvent = { Records: [sqsRecord(JSON.stringify(job))] };
    await this.worker(event, { getRemainingTimeInMillis: () => 60_000 });
  }
}
