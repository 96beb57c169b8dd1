import { loadConfig } from './config/config';
import { createDeps } from './deps';
import { createGateway, type WsHandler } from './gateway';

/*
 * Lambda entry points. Config is read and clients are created at import (the cold start), and
 * a bad configuration fails the init instead of a user's first message. The app is made ready
 * at import too, so Fastify's boot is not paid by the first invocation.
 */
const config = loadConfig(process.env);
const gateway = createGateway(createDeps(config));
// Marks the promise handled; an init failure still surfaces on every invocation below.
gateway.catch(() => undefined);

/** The API Gateway WebSocket integration: $connect, $disconnect, $default and every action. */
export const handler: WsHandler = async (event, context) => (await gateway).handler(event, context);
