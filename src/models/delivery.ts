import type { Logger } from '../utils/logger';

/** One delivery of a job to a worker. */
export interface Delivery {
  /** Epoch ms by which the generation must end: the invocation's timeout minus a margin. */
  readonly deadlineAt: number;
  /** How often the queue has delivered this job (1 the first time). */
  readonly receiveCount: number;
  readonly log: Logger;
}
