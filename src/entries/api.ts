import { loadConfig } from '../config/config';
import { createDeps } from '../deps';
import { createRouteGateway, type WsHandler } from '../route-gateway';
import { ROUTE_PARTS } from './route-parts';

/*
 * The route function's Lambda entry (its own bundle: no Bedrock client, no worker, no token
 * verifier). Config is read and
 * clients are created at import (the cold start), and a bad configuration fails the init
 * instead of a user's first message; Fastify's boot happens at import too.
 */
const gateway = createRouteGateway(createDeps(loadConfig(process.env), {}, ROUTE_PARTS));
// Marks the promise handled; an init failure still surfaces on every invocation below.
gateway.catch(() => undefined);

/** The API Gateway WebSocket integration: $connect, $disconnect, $default and every action. */
export const handler: WsHandler = async (event, context) => (await gateway).handler(event, context);
