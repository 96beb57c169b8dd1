import type { AppDeps } from './app';
import { createServices, type AppServices } from './services';
import { createWorkerHandler, type WorkerHandler } from './worker';

/**
 * The worker function: services and the SQS batch handler, without the Fastify app — the worker
 * serves no route, so its bundle and cold start carry no HTTP framework.
 */
export function createWorker(deps: AppDeps, services: AppServices = createServices(deps)): WorkerHandler {
  return createWorkerHandler(services.generations, deps.config, deps.logger.child({ component: 'worker' }), () => deps.metrics.flush());
}
