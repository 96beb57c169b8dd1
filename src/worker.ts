import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AppConfig } from './config/config';
import { runJob, workerDeadline } from './handlers/job';
import type { GenerationService } from './services/generation.service';
import type { Logger } from './utils/logger';

export type WorkerHandler = (event: SQSEvent, context?: Partial<Context>) => Promise<SQSBatchResponse>;

/**
 * The SQS trigger: each record is parsed as a job and handed to the generation service; records
 * of a batch run side by side, and only the failed ones are reported (ReportBatchItemFailures),
 * so SQS redelivers those and never the finished ones. The deadline is the invocation's,
 * computed once for the whole batch.
 */
export function createWorkerHandler(generations: GenerationService, config: AppConfig, logger: Logger, flush: () => void): WorkerHandler {
  return async (event, context = {}) => {
    const deadlineAt = workerDeadline(config.worker, context.getRemainingTimeInMillis?.());
    try {
      const failed = await Promise.all(
        event.Records.map(async (record) => {
          const receiveCount = Number(record.attributes.ApproximateReceiveCount);
          const delivery = {
            deadlineAt,
            receiveCount: Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1,
            log: logger.child({ messageId: record.messageId, ...(context.awsRequestId ? { awsRequestId: context.awsRequestId } : {}) }),
          };
          const done = await runJob(record.body, delivery, generations);
          return done ? [] : [{ itemIdentifier: record.messageId }];
        }),
      );
      return { batchItemFailures: failed.flat() };
    } finally {
      flush();
    }
  };
}
