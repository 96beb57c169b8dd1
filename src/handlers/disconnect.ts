import type { RouteHandler } from './types';

/**
 * $disconnect: forget the connection and stop its generations. API Gateway delivers this event
 * on a best-effort basis and ignores the result, so a failure is logged, never thrown; the TTL
 * cleans up what is left.
 */
export const disconnect: RouteHandler = async ({ event, caller }, services) => {
  const { disconnectStatusCode, disconnectReason } = event.requestContext;
  try {
    await services.connections.close(caller.connectionId, caller.userId);
    caller.log.info({ disconnectStatusCode, disconnectReason }, 'disconnected');
  } catch (error) {
    caller.log.error({ err: error }, 'disconnect cleanup failed; TTL will remove the record');
  }
  return { statusCode: 200 };
};
