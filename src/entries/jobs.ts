import { loadConfig } from '../config/config';
import { createDeps } from '../deps';
import { createGateway } from '../gateway';
import type { WorkerHandler } from '../worker';
import { WORKER_PARTS } from './worker-parts';

/*
 * The worker function's Lambda entry (its own bundle: no SQS client — the event source polls
 * for it). The same app and services as the route function, built at import.
 */
const gateway = createGateway(createDeps(loadConfig(process.env), {}, WORKER_PARTS));
gateway.catch(() => undefined);

/** The SQS trigger: runs the generations the route function queued, past API Gateway's 29 s. */
export const worker: WorkerHandler = async (event, context) => (await gateway).worker(event, context);
