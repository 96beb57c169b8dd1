import awsLambdaFastify from '@fastify/aws-lambda';
import type { Context } from 'aws-lambda';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from './app';
import { createAuthorizer, type AuthorizerEvent, type AuthorizerResult } from './auth/authorizer';
import { createTokenVerifier } from './auth/verify';
import { createServices } from './services';
import { isWsEvent, toProxyEvent, type WsEvent } from './utils/lambda';
import { createWorkerHandler, type WorkerHandler } from './worker';

/** What API Gateway gets back from the integration: only `statusCode` matters for WebSockets. */
export interface WsHandlerResult {
  readonly statusCode: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export type WsHandler = (event: WsEvent, context?: Partial<Context>) => Promise<WsHandlerResult>;

export interface Gateway {
  readonly app: FastifyInstance;
  readonly deps: AppDeps;
  readonly handler: WsHandler;
  /** The SQS trigger: runs queued generations. */
  readonly worker: WorkerHandler;
  /** The $connect authorizer, or undefined when no auth is configured (open gateway). */
  readonly authorizer: ((event: AuthorizerEvent) => Promise<AuthorizerResult>) | undefined;
}

/**
 * Wraps the app for Lambda. Every caller — the Lambda entry, the local emulator, the tests —
 * goes through this one function, so they all run the same code path.
 */
export async function createGateway(deps: AppDeps): Promise<Gateway> {
  const services = createServices(deps);
  const app = buildApp(deps, services);
  // The proxy decorates the request, so it must wrap the app before the app is ready.
  const proxy = awsLambdaFastify(app, { decorateRequest: true });
  // Boot now (the cold start), not in the first invocation.
  await app.ready();
  const handler: WsHandler = async (event, context = {}) => {
    if (!isWsEvent(event)) throw new TypeError('not an API Gateway WebSocket event');
    try {
      return await proxy(toProxyEvent(event), context as Context);
    } finally {
      deps.metrics.flush();
    }
  };
  const worker = createWorkerHandler(services.generations, deps.config, deps.logger.child({ component: 'worker' }), () => deps.metrics.flush());
  const verify = createTokenVerifier(deps.config.auth);
  const authorizer = verify ? createAuthorizer(verify, deps.logger.child({ component: 'authorizer' })) : undefined;
  return { app, deps, handler, worker, authorizer };
}
