import type { AppConfig } from '../config/config';
import { jobProblem, type Job } from '../models/job';
import type { Delivery, GenerationService } from '../services/generation.service';
import type { Logger } from '../utils/logger';

/** The Fastify path the worker entry serves each queue message on (never reachable from a WebSocket route). */
export const JOB_PATH = '/jobs/generate';

/** Headers the worker entry passes along with a job: the delivery facts SQS and Lambda give it. */
export const JOB_HEADERS = {
  receiveCount: 'x-sqs-receive-count',
  deadlineAt: 'x-worker-deadline-at',
} as const;

/**
 * When a generation must end: the invocation's remaining time (or the configured worker timeout
 * when the runtime reports none) less the margin for ending cleanly.
 */
export function workerDeadline(worker: AppConfig['worker'], remainingMs: number = worker.defaultTimeoutMs): number {
  return Date.now() + remainingMs - worker.timeMarginMs;
}

/** Reads the delivery facts the worker entry put in the headers, with safe defaults. */
export function deliveryOf(headers: Readonly<Record<string, unknown>>, worker: AppConfig['worker'], log: Logger): Delivery {
  const receiveCount = Number(headers[JOB_HEADERS.receiveCount]);
  const deadlineAt = Number(headers[JOB_HEADERS.deadlineAt]);
  return {
    receiveCount: Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1,
    deadlineAt: Number.isFinite(deadlineAt) ? deadlineAt : workerDeadline(worker),
    log,
  };
}

export interface JobResult {
  /** 2xx: the message is done with (deleted). Anything else: the queue delivers it again. */
  readonly statusCode: number;
}

/**
 * The worker's route: one queue message, one generation. A body that is not a job (written by
 * another version, or by hand) is refused, so it ends in the dead-letter queue for a human.
 */
export async function runJob(body: unknown, delivery: Delivery, generations: GenerationService): Promise<JobResult> {
  const problem = jobProblem(body);
  if (problem !== undefined) {
    delivery.log.error({ problem }, 'queue message is not a job this worker can run; it goes to the dead-letter queue');
    return { statusCode: 400 };
  }
  await generations.run(body as Job, delivery);
  return { statusCode: 200 };
}
