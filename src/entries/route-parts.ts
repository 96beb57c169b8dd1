import type { DepsParts } from '../deps';
import { createSqsClient, SqsJobQueue } from '../queue/sqs-job-queue';
import { unused } from './unused';

/** The route function's parts: the SQS queue it sends jobs to; no model (it never calls one). */
export const ROUTE_PARTS: DepsParts = {
  queue: (config, options) =>
    new SqsJobQueue(
      createSqsClient({
        queueUrl: config.queue.url,
        region: config.region,
        maxAttempts: config.queue.maxAttempts,
        ...(options.localCredentials ? { credentials: options.localCredentials } : {}),
      }),
      config.queue.url,
    ),
  model: () => unused.model,
};
