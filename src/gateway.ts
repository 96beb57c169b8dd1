import type { AppDeps } from './app';
import { createAuthorizer, type AuthorizerEvent, type AuthorizerResult } from './auth/authorizer';
import { createTokenVerifier } from './auth/verify';
import { createRouteGateway, type RouteGateway } from './route-gateway';
import { createServices } from './services';
import { createWorker } from './worker-gateway';
import type { WorkerHandler } from './worker';

export interface Gateway extends RouteGateway {
  /** The SQS trigger: runs queued generations, sharing this instance's services. */
  readonly worker: WorkerHandler;
  /** The $connect authorizer, or undefined when no auth is configured (open gateway). */
  readonly authorizer: ((event: AuthorizerEvent) => Promise<AuthorizerResult>) | undefined;
}

/**
 * One instance with every function's part — route app, worker and authorizer — for the local
 * emulator and the tests, built from the same pieces the Lambda entries use one at a time
 * (src/entries/*), so every caller runs the same code path.
 */
export async function createGateway(deps: AppDeps): Promise<Gateway> {
  const services = createServices(deps);
  const route = await createRouteGateway(deps, services);
  const worker = createWorker(deps, services);
  const verify = createTokenVerifier(deps.config.auth);
  const authorizer = verify ? createAuthorizer(verify, deps.logger.child({ component: 'authorizer' })) : undefined;
  return { ...route, worker, authorizer };
}
