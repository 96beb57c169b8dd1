import type { AppDeps } from './app';
import { createServices, type AppServices } from './services';
import { GenerationService } from './services/generation.service';
import { createWorkerHandler, type WorkerHandler } from './worker';

/**
 * The worker function: services and the SQS batch handler, without the Fastify app — the worker
 * serves no route, so its bundle and cold start carry no HTTP framework.
 */
export function createWorker(deps: AppDeps, services: AppServices = createServices(deps)): WorkerHandler {
  // Built here, not with the route's services: the route function's bundle carries none of it.
  const generations = new GenerationService({ ...deps, active: services.active, limiter: services.limiter, replies: services.replies });
  return createWorkerHandler(generations, deps.config, deps.logger.child({ component: 'worker' }), () => deps.metrics.flush());
}
