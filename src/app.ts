import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppConfig } from './config/config';
import { ROUTES, type RouteHandler } from './handlers';
import type { ChatModel } from './llm/chat-model';
import { toGatewayError } from './models/errors';
import type { ServerFrame } from './models/frames';
import { CLIENT_ACTIONS } from './models/protocol';
import { errorFrame } from './services/error-frame';
import type { AppServices } from './services';
import type { JobQueue } from './queue/job-queue';
import type { ConnectionStore } from './stores/connection-store';
import type { RequestStore } from './stores/request-store';
import type { CounterStore } from './stores/counter-store';
import { wsEventOf } from './utils/fastify';
import { routePath } from './utils/lambda';
import type { Logger } from './utils/logger';
import { METRICS, type GatewayMetrics } from './utils/metrics';
import { ConnectionGoneError, type FrameSender } from './utils/websocket';

/** Everything the app talks to, created once per cold start and injected (tests swap them). */
export interface AppDeps {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly sender: FrameSender;
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly counters: CounterStore;
  readonly queue: JobQueue;
  readonly model: ChatModel;
  readonly metrics: GatewayMetrics;
}

/**
 * Builds the Fastify app behind the API Gateway integration: `POST /ws/<routeKey>` per entry of
 * the static route table. Handlers return data; this file alone delivers replies and turns
 * errors into `error` frames (MESSAGE events) or HTTP statuses (CONNECT, DISCONNECT).
 * The caller wraps the app (plugins, the Lambda proxy) and then awaits `app.ready()`.
 */
export function buildApp(deps: AppDeps, services: AppServices): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request access lines would double every frame's cost in CloudWatch; handlers log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
  });
  for (const [routeKey, handler] of Object.entries(ROUTES)) {
    app.post(routePath(routeKey), (request, reply) => serve(handler, request, reply));
  }
  // A route API Gateway knows but this build does not: answer like an unknown action.
  app.setNotFoundHandler((request, reply) => serve(ROUTES['$default'] as RouteHandler, request, reply));

  async function serve(handler: RouteHandler, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const event = wsEventOf(request);
    const { connectionId, routeKey, eventType, requestTimeEpoch, authorizer } = event.requestContext;
    const userId = authorizer?.['userId'];
    const log = request.log.child({ connectionId, routeKey, ...(typeof userId === 'string' ? { userId } : {}) });
    const caller = {
      connectionId,
      receivedAt: requestTimeEpoch || Date.now(),
      userId: typeof userId === 'string' ? userId : undefined,
      // Optional in the event (the @types/aws-lambda shape has no identity on some routes).
      sourceIp: event.requestContext.identity?.sourceIp ?? 'unknown',
      log,
    };
    try {
      const result = await handler({ event, caller }, services);
      if (result.reply) await deliver(connectionId, result.reply, log);
      if (eventType === 'CONNECT') deps.metrics.count(METRICS.connections);
      if (eventType === 'DISCONNECT') deps.metrics.count(METRICS.disconnections);
      return await reply.code(result.statusCode ?? 200).send();
    } catch (error) {
      const failure = toGatewayError(error);
      if (failure.code === 'internal_error') log.error({ err: error }, 'handler failed');
      else log.info({ code: failure.code, message: failure.message }, 'rejected a client message');
      // Only a MESSAGE has a client listening for frames; $connect answers with its status.
      // A refused $connect answers with a status the handshake passes on: 429 at a limit, else 500.
      if (eventType !== 'MESSAGE') return reply.code(failure.code === 'rate_limited' ? 429 : 500).send();
      deps.metrics.count(METRICS.errors, 1, { name: 'code', value: failure.code });
      const extra = failure.code === 'unknown_action' ? { validActions: CLIENT_ACTIONS } : {};
      await deliver(connectionId, errorFrame(failure, extra), log);
      return reply.code(200).send();
    }
  }

  async function deliver(connectionId: string, frame: ServerFrame, log: Logger): Promise<void> {
    try {
      await deps.sender.send(connectionId, frame);
    } catch (error) {
      if (error instanceof ConnectionGoneError) {
        deps.metrics.count(METRICS.staleConnections);
        await deps.connections.delete(connectionId).catch(() => undefined);
        log.info('connection gone before the reply; record removed');
      } else {
        log.warn({ err: error }, 'could not deliver a reply frame');
      }
    }
  }

  // Errors outside a handler (no WebSocket event behind the request): log them, answer 500.
  app.setErrorHandler((error, request, reply) => {
    request.log.error({ err: error }, 'request failed outside a route handler');
    return reply.code(500).send();
  });

  return app;
}
