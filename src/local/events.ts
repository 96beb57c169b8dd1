import type { WsEvent, WsRequestContext } from '../utils/lambda';
import { newRequestId, requestTime } from './ids';

/** What the emulator knows about a connection when it builds an event. */
export interface EventSource {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly apiId: string;
  readonly domainName: string;
  readonly stage: string;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  readonly authorizer: Readonly<Record<string, unknown>> | undefined;
}

function context(source: EventSource, routeKey: string, eventType: WsRequestContext['eventType']): WsRequestContext {
  const now = Date.now();
  return {
    routeKey,
    eventType,
    extendedRequestId: newRequestId(),
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: source.stage,
    connectedAt: source.connectedAt,
    requestTimeEpoch: now,
    identity: {
      sourceIp: source.sourceIp,
      ...(source.userAgent !== undefined && eventType !== 'DISCONNECT' ? { userAgent: source.userAgent } : {}),
    },
    requestId: newRequestId(),
    domainName: source.domainName,
    connectionId: source.connectionId,
    apiId: source.apiId,
    ...(source.authorizer ? { authorizer: source.authorizer } : {}),
  };
}

function multiValue(pairs: ReadonlyArray<readonly [string, string]>): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    single[name] = single[name] === undefined ? value : `${single[name]},${value}`;
    (multi[name] ??= []).push(value);
  }
  return { single, multi };
}

/**
 * $connect: the only event with the upgrade request's headers and query string. Header names
 * keep the client's casing, as API Gateway passes them, plus the X-Forwarded-* it adds.
 */
export function connectEvent(
  source: EventSource,
  rawHeaders: readonly string[],
  query: URLSearchParams,
  port: number,
): WsEvent {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  pairs.push(
    ['X-Amzn-Trace-Id', `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${newRequestId().replace(/[^A-Za-z0-9]/g, '')}`],
    ['X-Forwarded-For', source.sourceIp],
    ['X-Forwarded-Port', String(port)],
    ['X-Forwarded-Proto', 'http'],
  );
  const headers = multiValue(pairs);
  const queryPairs = [...query.entries()];
  const queryValues = multiValue(queryPairs);
  return {
    headers: headers.single,
    multiValueHeaders: headers.multi,
    ...(queryPairs.length > 0
      ? { queryStringParameters: queryValues.single, multiValueQueryStringParameters: queryValues.multi }
      : {}),
    requestContext: context(source, '$connect', 'CONNECT'),
    isBase64Encoded: false,
  };
}

/** A client message routed to `routeKey`; only MESSAGE events carry a messageId. */
export function messageEvent(source: EventSource, routeKey: string, body: string): WsEvent {
  return {
    requestContext: { ...context(source, routeKey, 'MESSAGE'), messageId: newRequestId() },
    body,
    isBase64Encoded: false,
  };
}

/** $disconnect, with the four placeholder headers API Gateway sends on it. */
export function disconnectEvent(source: EventSource, statusCode: number, reason: string): WsEvent {
  const headers = multiValue([
    ['Host', source.domainName],
    ['x-api-key', ''],
    ['X-Forwarded-For', ''],
    ['x-restapi', ''],
  ]);
  return {
    headers: headers.single,
    multiValueHeaders: headers.multi,
    requestContext: { ...context(source, '$disconnect', 'DISCONNECT'), disconnectStatusCode: statusCode, disconnectReason: reason },
    isBase64Encoded: false,
  };
}

/** API Gateway's wording for why a connection closed, as far as it is known. */
export function disconnectReason(code: number, reason: string, byServer: boolean): string {
  if (byServer) return reason || 'Connection closed by the server';
  if (code === 1005) return 'Client-side close frame status not set';
  if (code === 1006) return 'Connection lost without a close frame';
  return `Client-side close frame status code ${code}${reason ? ` with reason "${reason}"` : ''}`;
}

/**
 * Route selection on `$request.body.action`: a JSON object whose `action` names a configured
 * route goes there; anything else, non-JSON included, goes to $default.
 */
export function selectRoute(body: string, routes: ReadonlySet<string>): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const action = (parsed as { action?: unknown }).action;
      if (typeof action === 'string' && routes.has(action) && !action.startsWith('$')) return action;
    }
  } catch {
    // not JSON: $default
  }
  return '$default';
}
