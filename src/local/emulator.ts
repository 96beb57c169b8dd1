import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { AppDeps } from '../app';
import { loadConfig } from '../config/config';
import type { Env } from '../config/env';
import type { LocalServerConfig } from '../config/local';
import { createDeps, type DepsOptions } from '../deps';
import { createGateway, type Gateway } from '../gateway';
import { ROUTE_KEYS } from '../handlers';
import { LIMITS } from '../models/limits';
import type { WsEvent } from '../utils/lambda';
import { connectEvent, disconnectEvent, disconnectReason, messageEvent, selectRoute, type EventSource } from './events';
import { newApiId, newConnectionId } from './ids';
import { handleManagementRequest, type ManagedConnection, type ManagementApiOptions } from './management-api';
import { LocalQueue } from './queue';

export interface LocalGatewayOptions {
  readonly server: LocalServerConfig;
  /** The app's environment (LLM_PROVIDER, MOCK_TOKEN_DELAY_MS, …). */
  readonly env: Env;
  /** Replaces some of the app's dependencies (tests). */
  readonly deps?: Partial<AppDeps>;
  /** Clients made elsewhere, e.g. a Bedrock client pointed at an emulator (tests). */
  readonly clients?: Omit<DepsOptions, 'localCredentials'>;
  /** Test hook into POST @connections: delay or fail a post. */
  readonly beforePost?: ManagementApiOptions['beforePost'];
  /** Test hook: sees every event before the handler does. */
  readonly onEvent?: (event: WsEvent) => void;
}

export interface LocalGateway {
  readonly port: number;
  /** ws://host:port/{stage} */
  readonly url: string;
  /** The chat page. */
  readonly pageUrl: string;
  /** The @connections endpoint the app posts to, as in AWS: http://host:port/{stage} */
  readonly managementEndpoint: string;
  /** The in-process SQS queue in front of the worker (its URL is the app's JOB_QUEUE_URL). */
  readonly queue: LocalQueue;
  /** The app instance behind the routes (the template's route function). */
  readonly gateway: Gateway;
  /**
   * The app instance behind the queue (the template's worker function): a separate instance
   * sharing only the stores, as in AWS, so a cancel takes the same path it takes there.
   */
  readonly worker: Gateway;
  connectionIds(): string[];
  /** Closes every connection (each gets its $disconnect), waits for handlers, then stops. */
  stop(): Promise<void>;
}

interface Connection extends EventSource, ManagedConnection {
  readonly socket: WebSocket;
  closedByServer?: { code: number; reason: string };
  readonly timers: NodeJS.Timeout[];
}

const PAGE = resolve(__dirname, '../../test-client.html');
// The emulator signs nothing it checks; the SDK still needs credentials to sign with.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Starts the API Gateway WebSocket emulator in front of the same handler Lambda runs. */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const { stage, idleTimeoutMs, maxConnectionMs } = options.server;
  const connections = new Map<string, Connection>();
  const pending = new Set<Promise<unknown>>();
  const routes = new Set(ROUTE_KEYS);
  const apiId = newApiId();
  let stopping = false;

  const server = createServer();
  // Everything that arrives before the app is ready waits for it (table creation takes a
  // second or two): a client connecting early is served late, never left hanging.
  let markReady: (ready: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => (markReady = resolve));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void ready.then((ok) => (ok ? onUpgrade(req, socket, head) : refuse(socket, 503))).catch((error: unknown) => {
      log.error({ err: error }, 'upgrade failed');
      refuse(socket, 500);
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void ready.then((ok) => (ok ? onRequest(req, res) : void res.writeHead(503).end())).catch((error: unknown) => {
      log.error({ err: error }, 'request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((done, failed) => {
    server.once('error', failed);
    server.listen(options.server.port, options.server.host, () => done());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.server.port;
  const authority = `${options.server.host.includes(':') ? `[${options.server.host}]` : options.server.host}:${port}`;
  const managementEndpoint = `http://${authority}/${stage}`;

  let deps: AppDeps;
  let gateway: Gateway;
  let worker: Gateway;
  let queue: LocalQueue;
  try {
    const queueOptions = options.server.queue;
    const config = loadConfig(options.env, {
      managementEndpoint,
      queue: { url: `http://${authority}/000000000000/ws-llm-gateway-jobs`, maxReceiveCount: queueOptions.maxReceiveCount, maxAttempts: 3 },
    });
    const base = createDeps(config, { ...options.clients, localCredentials: LOCAL_CREDENTIALS });
    // Against a local DynamoDB endpoint, create the table first (in AWS the template owns it).
    if (options.deps?.connections === undefined) await base.prepare();
    deps = { ...base, ...options.deps };
    // Two instances, as the template deploys two functions: they share the stores and nothing else.
    [gateway, worker] = await Promise.all([createGateway(deps), createGateway(deps)]);
    queue = new LocalQueue(`http://${authority}`, 'ws-llm-gateway-jobs', queueOptions, deps.logger.child({ component: 'local-sqs' }));
    queue.attach(worker.worker);
  } catch (error) {
    // A failed start must not leave the port open.
    markReady(false);
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    throw error;
  }
  const log = deps.logger.child({ component: 'local-api-gateway' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxMessageBytes });

  function track(work: Promise<unknown>): void {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  }

  async function invoke(event: WsEvent): Promise<number> {
    options.onEvent?.(event);
    try {
      const result = await gateway.handler(event, { awsRequestId: randomUUID(), functionName: 'ws-gateway-local' });
      return result.statusCode;
    } catch (error) {
      log.error({ err: error, routeKey: event.requestContext.routeKey }, 'integration failed');
      return 500;
    }
  }

  function closeFromServer(connection: Connection, code: number, reason: string): void {
    connection.closedByServer ??= { code, reason };
    connection.socket.close(code, reason);
    // A client that never answers the close handshake is cut off, as API Gateway does.
    connection.timers.push(setTimeout(() => connection.socket.terminate(), 2000).unref());
  }

  function open(socket: WebSocket, source: EventSource): void {
    const connection: Connection = {
      ...source,
      socket,
      lastActiveAt: Date.now(),
      timers: [],
      send: (data) =>
        new Promise<void>((done, failed) => socket.send(data, { binary: false }, (err) => (err ? failed(err) : done()))),
      close: () => closeFromServer(connection, 1000, 'Connection deleted through the @connections API'),
    };
    const idle = setTimeout(() => closeFromServer(connection, 1001, 'Going away: idle timeout'), idleTimeoutMs);
    const max = setTimeout(() => closeFromServer(connection, 1001, 'Going away: maximum connection duration'), maxConnectionMs);
    connection.timers.push(idle, max);
    connections.set(source.connectionId, connection);

    socket.on('message', (data: RawData, isBinary: boolean) => {
      idle.refresh();
      connection.lastActiveAt = Date.now();
      if (isBinary) return closeFromServer(connection, 1003, 'Binary frames are not supported');
      const body = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      const event = messageEvent(connection, selectRoute(body, routes), body);
      track(
        invoke(event).then((status) => {
          // What API Gateway tells a client when the integration itself failed.
          if (status >= 500 && socket.readyState === WebSocket.OPEN) {
            const { connectionId, requestId } = event.requestContext;
            socket.send(JSON.stringify({ message: 'Internal server error', connectionId, requestId }));
          }
        }),
      );
    });
    socket.on('error', (error) => log.debug({ err: error, connectionId: source.connectionId }, 'socket error'));
    socket.on('close', (code: number, reason: Buffer) => {
      connection.timers.forEach(clearTimeout);
      connections.delete(source.connectionId);
      const byServer = connection.closedByServer;
      const statusCode = byServer?.code ?? code;
      const text = disconnectReason(code, byServer?.reason ?? reason.toString('utf8'), byServer !== undefined);
      track(invoke(disconnectEvent(connection, statusCode, text)));
    });
  }

  function refuse(socket: Duplex, status: number): void {
    const body = JSON.stringify({ message: STATUS_CODES[status] ?? 'Error' });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  /**
   * Runs the same authorizer as API Gateway would before $connect: Unauthorized → 401, a Deny
   * policy → 403, a failure → 500. An Allow yields the context every later event carries, with
   * the `principalId` and `integrationLatency` API Gateway adds.
   */
  async function authorize(
    source: EventSource,
    req: IncomingMessage,
    url: URL,
  ): Promise<Readonly<Record<string, unknown>> | undefined | number> {
    if (!gateway.authorizer) return undefined;
    const methodArn = `arn:aws:execute-api:local:000000000000:${apiId}/${stage}/$connect`;
    const event = { ...connectEvent(source, req.rawHeaders, url.searchParams, port), type: 'REQUEST' as const, methodArn };
    const started = Date.now();
    try {
      const result = await gateway.authorizer(event);
      const allowed = result.policyDocument.Statement.some((s) => s.Effect === 'Allow' && (s.Resource === methodArn || s.Resource === '*'));
      if (!allowed) return 403;
      return { ...result.context, principalId: result.principalId, integrationLatency: Date.now() - started };
    } catch (error) {
      if (error instanceof Error && error.message === 'Unauthorized') return 401;
      log.error({ err: error }, 'authorizer failed');
      return 500;
    }
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    if (path !== '' && path !== `/${stage}`) return refuse(socket, 404);
    if (stopping) return refuse(socket, 503);
    const anonymous: EventSource = {
      connectionId: newConnectionId(),
      connectedAt: Date.now(),
      apiId,
      domainName: authority,
      stage,
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      userAgent: req.headers['user-agent'],
      authorizer: undefined,
    };
    const authorized = await authorize(anonymous, req, url);
    if (typeof authorized === 'number') return refuse(socket, authorized);
    const source: EventSource = { ...anonymous, authorizer: authorized };
    const status = await invoke(connectEvent(source, req.rawHeaders, url.searchParams, port));
    if (status < 200 || status > 299) return refuse(socket, status);
    // $connect succeeded, so this connection gets its $disconnect, as API Gateway guarantees,
    // even when the client gave up (closed, or half-closed) while $connect ran and ws drops the
    // socket without opening it.
    let opened = false;
    const abandoned = (): void => {
      if (!opened) track(invoke(disconnectEvent(source, 1006, disconnectReason(1006, '', false))));
    };
    if (socket.destroyed) return abandoned();
    socket.once('close', abandoned);
    wss.handleUpgrade(req, socket, head, (ws) => {
      opened = true;
      socket.off('close', abandoned);
      open(ws, source);
    });
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const lookup = (id: string): Connection | undefined => {
      const connection = connections.get(id);
      return connection?.socket.readyState === WebSocket.OPEN ? connection : undefined;
    };
    if (await handleManagementRequest(req, res, { stage, lookup, beforePost: options.beforePost })) return;
    if (await queue.handleRequest(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && ['/', '/index.html', `/${stage}`].includes(path)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(await readFile(PAGE));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found' }));
  }

  markReady(true);

  /** Polls on a timer (never a microtask loop, which would starve the sockets it waits for). */
  async function settle(done: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise((tick) => setTimeout(tick, 20));
  }

  async function stop(): Promise<void> {
    stopping = true;
    for (const connection of connections.values()) closeFromServer(connection, 1001, 'Going away: server shutting down');
    await settle(() => connections.size === 0, 1000);
    for (const connection of connections.values()) connection.socket.terminate();
    // Every closed socket has queued its $disconnect; let those and running generations finish.
    await settle(() => connections.size === 0 && pending.size === 0, 5000);
    await queue.stop(5000);
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await Promise.all([gateway.app.close(), worker.app.close()]);
  }

  return {
    port,
    url: `ws://${authority}/${stage}`,
    pageUrl: `http://${authority}/`,
    managementEndpoint,
    queue,
    gateway,
    worker,
    connectionIds: () => [...connections.keys()],
    stop,
  };
}
