import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AppConfig } from './config/config';
import { runJob, workerDeadline } from './handlers/job';
import type { GenerationService } from './services/generation.service';
import type { Logger } from './utils/logger';

export type WorkerHandler = (event: SQSEvent, context?: Partial<Context>) => Promise<SQSBatchResponse>;

/** A record the worker did not finish: the batch processor reports it, and SQS delivers it again. */
class RecordNotDone extends Error {
  constructor(messageId: string) {
    super(`record ${messageId} not done; the queue delivers it again`);
    this.name = 'RecordNotDone';
  }
}

/**
 * The SQS trigger, the way Powertools' batch utility intends it: each record goes to the
 * generation service as a validated job, records of a batch run side by side, and only the
 * failed ones are reported (ReportBatchItemFailures), so SQS redelivers those and never the
 * finished ones. The deadline is the invocation's, computed once for the whole batch.
 */
export function createWorkerHandler(generations: GenerationService, config: AppConfig, logger: Logger, flush: () => void): WorkerHandler {
  return async (event, context = {}) => {
    // One processor per invocation: it keeps the batch's state, and the local emulator (unlike
    // Lambda) runs several invocations of one instance at once.
    const processor = new BatchProcessor(EventType.SQS);
    const deadlineAt = workerDeadline(config.worker, context.getRemainingTimeInMillis?.());
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      const delivery = {
        deadlineAt,
        receiveCount: Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1,
        log: logger.child({ messageId: record.messageId, ...(context.awsRequestId ? { awsRequestId: context.awsRequestId } : {}) }),
      };
      if (!(await runJob(record.body, delivery, generations))) throw new RecordNotDone(record.messageId);
    };
    try {
      // Every record is settled on its own; a batch whose records all failed is reported the
      // same way (not thrown), so one failure always means exactly one redelivery.
      return await processPartialResponse(event, handleRecord, processor, { context: context as Context, throwOnFullBatchFailure: false });
    } finally {
      flush();
    }
  };
}
