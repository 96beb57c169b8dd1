import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { LIMITS } from './models/limits';
import { noSchemaCompilers } from './routes/no-schema-compilers';
import { websocketRoutes } from './routes/websocket';
import type { AppServices } from './services';
import type { AppDeps } from './services/app-deps';
import { REQUEST_ID_HEADER } from './utils/lambda';

// The type lives with the services that consume it (no import circle app ⇄ services); callers keep importing it from here.
export type { AppDeps } from './services/app-deps';

/**
 * Builds the Fastify app behind the API Gateway integration: the services attached with
 * `decorate`, the WebSocket routes as a plugin (routes/websocket.ts). Fastify parses each
 * message once, with API Gateway's message limit as its body limit; API Gateway's requestId is
 * Fastify's request id, so every log line of an event carries it.
 * The caller wraps the app (the Lambda proxy) and then awaits `app.ready()`.
 */
export function buildApp(deps: AppDeps, services: AppServices): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request access lines would double every frame's cost in CloudWatch; handlers log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: REQUEST_ID_HEADER,
    bodyLimit: LIMITS.maxMessageBytes,
    // `metadata` is the client's, echoed verbatim: keys such as `__proto__` are data, carried
    // intact. Nothing merges a parsed body into another object (see docs/SECURITY.md).
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // Frames are checked by models/validate.ts; Fastify's own compilers stay out of the bundle.
    schemaController: { compilersFactory: noSchemaCompilers },
  });
  app.decorate('services', services);
  void app.register(websocketRoutes, { metrics: deps.metrics });
  return app;
}
