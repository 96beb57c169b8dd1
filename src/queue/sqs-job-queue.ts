import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Job } from '../models/job';
import type { JobQueue } from './job-queue';

export interface SqsClientOptions {
  readonly queueUrl: string;
  readonly region: string;
  readonly maxAttempts: number;
  /** Only the local emulator passes these (it checks no signature); in AWS the role's are used. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * Creates the one SQS client of a cold start. Its endpoint is the queue URL's origin: the
 * regional endpoint in AWS, the emulator locally (said outright, so the SDK need not warn).
 */
export function createSqsClient(options: SqsClientOptions): SQSClient {
  return new SQSClient({
    endpoint: new URL(options.queueUrl).origin,
    region: options.region,
    maxAttempts: options.maxAttempts,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

/** JobQueue on an SQS standard queue (see docs/DESIGN.md, "Long answers: the queue"). */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(job: Job): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(job),
        // Visible in the console and the DLQ without parsing the body.
        MessageAttributes: {
          requestId: { DataType: 'String', StringValue: job.requestId },
          connectionId: { DataType: 'String', StringValue: job.connectionId },
        },
      }),
    );
  }
}
