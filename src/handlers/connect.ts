import type { RouteHandler } from './types';

/** $connect: remember the connection. A failure refuses the handshake (500), never half-opens it. */
export const connect: RouteHandler = async ({ event }, services) => {
  await services.connections.open(event.requestContext);
  return { statusCode: 200 };
};
