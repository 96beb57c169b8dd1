import { loadConfig } from './config/config';
import { createDeps } from './deps';
import { UNAUTHORIZED, type AuthorizerEvent, type AuthorizerResult } from './auth/authorizer';
import { createGateway, type WsHandler } from './gateway';
import type { WorkerHandler } from './worker';

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

/** The SQS trigger: runs the generations the handler queued, past API Gateway's 29 s. */
export const worker: WorkerHandler = async (event, context) => (await gateway).worker(event, context);

/**
 * The $connect REQUEST authorizer. Without AUTH_JWT_SECRET or AUTH_JWKS_URL it refuses every
 * connection: an authorizer that is deployed but not configured fails closed.
 */
export const authorizer = async (event: AuthorizerEvent): Promise<AuthorizerResult> => {
  const { authorizer: authorize } = await gateway;
  if (!authorize) throw new Error(UNAUTHORIZED);
  return authorize(event);
};
