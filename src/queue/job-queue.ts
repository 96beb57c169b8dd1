import type { Job } from '../models/job';

/**
 * Where accepted requests wait for a worker: SQS in AWS, and the local emulator's in-process
 * queue (which speaks SQS's protocol) in development and tests.
 */
export interface JobQueue {
  /** Resolves once the queue has durably taken the job. */
  enqueue(job: Job): Promise<void>;
}
