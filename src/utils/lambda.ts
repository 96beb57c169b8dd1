/**
 * API Gateway WebSocket events, as AWS delivers them to a Lambda proxy integration, and their
 * mapping onto an HTTP-shaped event that @fastify/aws-lambda understands.
 */

export type WsEventType = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';

export interface WsRequestContext {
  readonly routeKey: string;
  readonly eventType: WsEventType;
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly domainName: string;
  readonly stage: string;
  readonly apiId: string;
  readonly requestId: string;
  readonly extendedRequestId: string;
  readonly requestTime: string;
  readonly requestTimeEpoch: number;
  readonly messageDirection: 'IN';
  /** Only on MESSAGE events. */
  readonly messageId?: string;
  /** Always sent by API Gateway, but optional in @types/aws-lambda's shape: never relied on. */
  readonly identity?: { readonly sourceIp?: string; readonly userAgent?: string };
  /** The $connect authorizer's context, repeated by API Gateway on every later event. */
  readonly authorizer?: Readonly<Record<string, unknown>>;
  /** Only on DISCONNECT events. */
  readonly disconnectStatusCode?: number;
  readonly disconnectReason?: string;
}

export interface WsEvent {
  readonly requestContext: WsRequestContext;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[]>>;
  readonly queryStringParameters?: Readonly<Record<string, string>>;
  readonly multiValueQueryStringParameters?: Readonly<Record<string, readonly string[]>>;
}

/** The header that carries API Gateway's requestId to Fastify, which makes it the request id. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What the proxy receives: an HTTP-shaped event that still carries the original. */
export interface ProxyEvent {
  readonly httpMethod: 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  readonly wsEvent: WsEvent;
}

/** The Fastify path that serves a route key: every route is `POST /ws/<routeKey>`. */
export function routePath(routeKey: string): string {
  return `/ws/${routeKey}`;
}

export function isWsEvent(value: unknown): value is WsEvent {
  if (typeof value !== 'object' || value === null) return false;
  const context = (value as { requestContext?: unknown }).requestContext;
  if (typeof context !== 'object' || context === null) return false;
  const { routeKey, connectionId, eventType } = context as Record<string, unknown>;
  return (
    typeof routeKey === 'string' &&
    typeof connectionId === 'string' &&
    (eventType === 'CONNECT' || eventType === 'MESSAGE' || eventType === 'DISCONNECT')
  );
}

/**
 * @fastify/aws-lambda knows REST and HTTP API events only (it needs a method and a path), so a
 * WebSocket event becomes `POST /ws/<routeKey>`. A message's text is the request body, as JSON
 * for Fastify's parser (a binary one as octet-stream, which nothing parses); CONNECT and
 * DISCONNECT have no body. The original event rides along for the handlers.
 */
export function toProxyEvent(event: WsEvent): ProxyEvent {
  const message = event.requestContext.eventType === 'MESSAGE';
  return {
    httpMethod: 'POST',
    path: routePath(event.requestContext.routeKey),
    headers: {
      [REQUEST_ID_HEADER]: event.requestContext.requestId,
      ...(message ? { 'content-type': event.isBase64Encoded ? 'application/octet-stream' : 'application/json' } : {}),
    },
    body: message ? (event.body ?? '') : null,
    isBase64Encoded: message && event.isBase64Encoded,
    wsEvent: event,
  };
}
