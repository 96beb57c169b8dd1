import type { AppConfig } from '../config/config';
import { isJob, jobIdentityOf, jobProblem } from '../models/job';
import type { Delivery } from '../models/delivery';
import type { GenerationService } from '../services/generation.service';

/**
 * When a generation must end: the invocation's remaining time (or the configured worker timeout
 * when the runtime reports none) less the margin for ending cleanly.
 */
export function workerDeadline(worker: AppConfig['worker'], remainingMs: number = worker.defaultTimeoutMs): number {
  return Date.now() + remainingMs - worker.timeMarginMs;
}

/** Parses a queue message body as plain JSON: nothing is dropped or refused on the way. */
function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The worker's handling of one queue message. Returns true when the message is done with
 * (SQS deletes it), false when it must be delivered again or, for a message that is not a job
 * this worker can run, kept for a human in the dead-letter queue — after the request it names,
 * if any, has been ended with an error frame and its limits released.
 */
export async function runJob(body: string, delivery: Delivery, generations: GenerationService): Promise<boolean> {
  const value = parseBody(body);
  if (!isJob(value)) {
    const problem = jobProblem(value);
    const identity = jobIdentityOf(value);
    if (identity) await generations.abandon(identity, problem, delivery);
    else delivery.log.error({ problem }, 'queue message is not a job this worker can run; it goes to the dead-letter queue');
    return false;
  }
  try {
    await generations.run(value, delivery);
    return true;
  } catch (error) {
    delivery.log.warn({ err: error, receiveCount: delivery.receiveCount }, 'could not claim the job; the queue delivers it again');
    return false;
  }
}
