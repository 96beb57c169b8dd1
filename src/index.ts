import { loadConfig } from './config/config';
import { createDeps } from './deps';
import { createGateway, type WsHandler } from './gateway';
import type { WorkerHandler } from './worker';

/*
 * Lambda entry points of the app: the API Gateway integration and the SQS worker, two triggers
 * of one Fastify app (the $connect authorizer has its own, smaller bundle: src/authorizer.ts).
 * Config is read and clients are created at import (the cold start), and a bad configuration
 * fails the init instead of a user's first message. The app is made ready at import too, so
 * Fastify's boot is not paid by the first invocation.
 */
const config = loadConfig(process.env);
const gateway = createGateway(createDeps(config));
// Marks the promise handled; an init failure still surfaces on every invocation below.
gateway.catch(() => undefined);

/** The API Gateway WebSocket integration: $connect, $disconnect, $default and every action. */
export const handler: WsHandler = async (event, context) => (await gateway).handler(event, context);

/** The SQS trigger: runs the generations the handler queued, past API Gateway's 29 s. */
export const worker: WorkerHandler = async (event, context) => (await gateway).worker(event, context);
