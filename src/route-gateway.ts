import awsLambdaFastify from '@fastify/aws-lambda';
import type { Context } from 'aws-lambda';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from './app';
import { createServices, type AppServices } from './services';
import { isWsEvent, toProxyEvent, type WsEvent } from './utils/lambda';

/** What API Gateway gets back from the integration: only `statusCode` matters for WebSockets. */
export interface WsHandlerResult {
  readonly statusCode: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export type WsHandler = (event: WsEvent, context?: Partial<Context>) => Promise<WsHandlerResult>;

export interface RouteGateway {
  readonly app: FastifyInstance;
  readonly deps: AppDeps;
  readonly services: AppServices;
  /** The API Gateway WebSocket integration: $connect, $disconnect, $default and every action. */
  readonly handler: WsHandler;
}

/**
 * The route function: the Fastify app wrapped for Lambda. Holds no worker and no token verifier,
 * so the route function's bundle carries neither (the authorizer is its own function).
 */
export async function createRouteGateway(deps: AppDeps, services: AppServices = createServices(deps)): Promise<RouteGateway> {
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
  return { app, deps, services, handler };
}
