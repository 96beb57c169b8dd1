import type { ClientAction } from '../models/protocol';
import { cancel } from './cancel';
import { connect } from './connect';
import { createDefaultRoute } from './default';
import { disconnect } from './disconnect';
import { chat, stream } from './message';
import { ping } from './ping';
import { resume } from './resume';
import { upload } from './upload';
import { convCreate, convDelete, convGet, convList, convRename } from './conversation';
import type { RouteHandler } from './types';

/** Client actions and their handlers: the routes template.yaml must declare, besides the $ routes. */
export const ACTION_ROUTES: Readonly<Record<ClientAction, RouteHandler>> = {
  'llm/stream': stream,
  message: stream,
  'llm/chat': chat,
  'llm/cancel': cancel,
  'llm/resume': resume,
  'llm/upload': upload,
  ping,
  'conv/create': convCreate,
  'conv/list': convList,
  'conv/get': convGet,
  'conv/rename': convRename,
  'conv/delete': convDelete,
};

function actionHandler(action: string): RouteHandler | undefined {
  return Object.hasOwn(ACTION_ROUTES, action) ? ACTION_ROUTES[action as ClientAction] : undefined;
}

/** The whole routing table, keyed by API Gateway's routeKey. Static, so it can be checked. */
export const ROUTES: Readonly<Record<string, RouteHandler>> = {
  $connect: connect,
  $disconnect: disconnect,
  $default: createDefaultRoute(actionHandler),
  ...ACTION_ROUTES,
};

export const ROUTE_KEYS: readonly string[] = Object.keys(ROUTES);

export type { RouteHandler, RouteContext, RouteResult, Services } from './types';
