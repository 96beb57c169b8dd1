import type { ServerFrame } from '../models/frames';
import type { ConnectionService } from '../services/connection.service';
import type { Caller } from '../models/caller';
import type { MessageService } from '../services/message.service';
import type { WsEvent } from '../utils/lambda';

/** The services a route handler may call. */
export interface Services {
  readonly connections: ConnectionService;
  readonly messages: MessageService;
}

export interface RouteContext {
  readonly event: WsEvent;
  readonly caller: Caller;
}

/** What a handler returns: an HTTP status for API Gateway and, optionally, one frame to send back. */
export interface RouteResult {
  readonly statusCode?: number;
  readonly reply?: ServerFrame;
}

/**
 * A thin handler: parse, call a service, return data. Throwing a GatewayError is how a handler
 * reports bad input; the app turns it into an `error` frame (see app.ts).
 */
export type RouteHandler = (context: RouteContext, services: Services) => Promise<RouteResult>;
