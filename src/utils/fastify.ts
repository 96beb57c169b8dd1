import type { FastifyRequest } from 'fastify';
import { isWsEvent, type WsEvent } from './lambda';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by @fastify/aws-lambda (`decorateRequest`): the event and context of this invocation. */
    awsLambda?: { readonly event: unknown; readonly context: unknown };
  }
}

/** The original WebSocket event behind a proxied request (see toProxyEvent). */
export function wsEventOf(request: FastifyRequest): WsEvent {
  const proxied: unknown = request.awsLambda?.event;
  const event: unknown =
    typeof proxied === 'object' && proxied !== null ? (proxied as { wsEvent?: unknown }).wsEvent : undefined;
  if (!isWsEvent(event)) throw new Error('request did not come from an API Gateway WebSocket event');
  return event;
}
