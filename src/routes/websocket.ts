import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROUTES, type RouteContext, type RouteHandler } from '../handlers';
import type { Caller } from '../models/caller';
import type { AppServices } from '../services';
import { wsEventOf } from '../utils/fastify';
import { withBindings } from '../utils/logger';
import { routePath } from '../utils/lambda';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import { fromFastify } from './fastify-errors';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's services, attached once with `decorate`. */
    services: AppServices;
  }
}

export interface WebSocketRoutesOptions {
  readonly metrics: GatewayMetrics;
}

/** The WebSocket event behind a request and who sent it (a request decoration, set in `onRequest`). */
type WsContext = Omit<RouteContext, 'body'>;
const WS = 'ws';
const wsOf = (request: FastifyRequest): WsContext => request.getDecorator<WsContext>(WS);

/** Who sent an event, from what API Gateway tells: the connection, the authorizer's userId, the source IP. */
function callerOf(request: FastifyRequest): WsContext {
  const event = wsEventOf(request);
  const { connectionId, routeKey, requestTimeEpoch, authorizer, identity } = event.requestContext;
  const userId = typeof authorizer?.['userId'] === 'string' ? authorizer['userId'] : undefined;
  const caller: Caller = {
    connectionId,
    receivedAt: requestTimeEpoch || Date.now(),
    userId,
    // Optional in the event (the @types/aws-lambda shape has no identity on some routes).
    sourceIp: identity?.sourceIp ?? 'unknown',
    // request.log is this request's own child logger (Fastify makes one per request).
    log: withBindings(request.log, { connectionId, routeKey, ...(userId !== undefined ? { userId } : {}) }),
  };
  return { event, caller };
}

/**
 * The WebSocket routes as a Fastify plugin: `POST /ws/<routeKey>` per entry of the static route
 * table, a not-found route for a route key this build does not know (answered like an unknown
 * action), and one error handler that turns every failure — a handler's, a service's, or
 * Fastify's own refusal of a body — into the one outcome its event type has: an `error` frame
 * for a MESSAGE, a status for CONNECT and DISCONNECT.
 */
export function websocketRoutes(app: FastifyInstance, { metrics }: WebSocketRoutesOptions, done: (error?: Error) => void): void {
  const { replies } = app.services;
  // Declared up front (null, as Fastify wants for object decorations), filled before parsing,
  // so even a body the parser refuses reaches the error handler with its caller known.
  app.decorateRequest(WS, null);
  app.addHook('onRequest', (request, _reply, next) => {
    request.setDecorator<WsContext>(WS, callerOf(request));
    next();
  });

  async function serve(handler: RouteHandler, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { event, caller } = wsOf(request);
    const result = await handler({ event, caller, body: request.body }, app.services);
    // Several frames (a page of a conversation in parts) go in order, one after the other.
    for (const frame of result.replies ?? (result.reply ? [result.reply] : [])) await replies.send(caller.connectionId, frame, caller.log);
    if (event.requestContext.eventType === 'CONNECT') metrics.count(METRICS.connections);
    if (event.requestContext.eventType === 'DISCONNECT') metrics.count(METRICS.disconnections);
    return reply.code(result.statusCode ?? 200).send();
  }

  for (const [routeKey, handler] of Object.entries(ROUTES)) {
    app.post(routePath(routeKey), (request, reply) => serve(handler, request, reply));
  }
  app.setNotFoundHandler((request, reply) => serve(ROUTES['$default'] as RouteHandler, request, reply));

  app.setErrorHandler(async (error, request, reply) => {
    const { event, caller } = wsOf(request);
    const failure = fromFastify(error);
    // Only a MESSAGE has a client listening for frames; $connect answers with its status.
    if (event.requestContext.eventType !== 'MESSAGE') return reply.code(replies.status(failure, caller.log)).send();
    await replies.fail(caller.connectionId, undefined, failure, caller.log);
    return reply.code(200).send();
  });
  done();
}
