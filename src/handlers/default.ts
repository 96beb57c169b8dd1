import { GatewayError } from '../models/errors';
import { CLIENT_ACTIONS } from '../models/protocol';
import { echoableRequestId } from '../models/validate';
import { frameOf } from './client-frame';
import type { RouteHandler } from './types';

/**
 * $default: API Gateway sends here every message whose `action` matches no route, and every
 * message that is not JSON. A known action arriving here means the deployed API lacks that
 * route; it is served anyway through `dispatch`, so a partial route table degrades gracefully.
 * The frame was parsed once, by Fastify; the dispatched handler reads the same parsed body.
 */
export function createDefaultRoute(dispatch: (action: string) => RouteHandler | undefined): RouteHandler {
  return async (context, services) => {
    const frame = frameOf(context.body);
    const action = frame['action'];
    const handler = typeof action === 'string' ? dispatch(action) : undefined;
    if (handler) return handler(context, services);
    const what = typeof action === 'string' ? `Unknown action "${action.slice(0, 64)}".` : 'The message has no "action" field.';
    throw new GatewayError('unknown_action', `${what} Valid actions: ${CLIENT_ACTIONS.join(', ')}.`, {
      refusedRequestId: echoableRequestId(frame),
    });
  };
}
