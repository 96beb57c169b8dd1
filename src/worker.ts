import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from './config/config';
import { JOB_HEADERS, JOB_PATH, workerDeadline } from './handlers/job';

export type WorkerHandler = (event: SQSEvent, context?: Partial<Context>) => Promise<SQSBatchResponse>;

/**
 * The SQS trigger of the same app: each record goes through the app's job route, records of a
 * batch run side by side, and only the failed ones are reported (ReportBatchItemFailures), so
 * SQS redelivers those and never the finished ones.
 */
export function createWorkerHandler(app: FastifyInstance, config: AppConfig, flush: () => void): WorkerHandler {
  return async (event, context = {}) => {
    const deadlineAt = workerDeadline(config.worker, context.getRemainingTimeInMillis?.());
    try {
      const failed = await Promise.all(
        event.Records.map(async (record) => {
          const response = await app.inject({
            method: 'POST',
            url: JOB_PATH,
            headers: {
              'content-type': 'application/json',
              [JOB_HEADERS.receiveCount]: record.attributes.ApproximateReceiveCount,
              [JOB_HEADERS.deadlineAt]: String(deadlineAt),
            },
            payload: record.body,
          });
          return response.statusCode < 300 ? [] : [{ itemIdentifier: record.messageId }];
        }),
      );
      return { batchItemFailures: failed.flat() };
    } finally {
      flush();
    }
  };
}
