import { loadConfig } from '../config/config';
import { createDeps } from '../deps';
import type { WorkerHandler } from '../worker';
import { createWorker } from '../worker-gateway';
import { WORKER_PARTS } from './worker-parts';

/*
 * The worker function's Lambda entry (its own bundle: no SQS client — the event source polls
 * for it — and no Fastify app: the worker serves no route). Config is read and clients are
 * created at import, so a bad configuration fails the init, not a job.
 */
const run = createWorker(createDeps(loadConfig(process.env), {}, WORKER_PARTS));

/** The SQS trigger: runs the generations the route function queued, past API Gateway's 29 s. */
export const worker: WorkerHandler = (event, context) => run(event, context);
