import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { AppDeps } from '../app';
import type { Env } from '../config/env';
import type { LocalServerConfig } from '../config/local';
import type { DepsOptions } from '../deps';
import type { Gateway } from '../gateway';
import { ROUTE_KEYS } from '../handlers';
import { LIMITS } from '../models/limits';
import type { WsEvent } from '../utils/lambda';
import { startBackend, type Backend } from './backend';
import { Connections } from './connections';
import { handshake, refuse } from './handshake';
import { newApiId } from './ids';
import { handleManagementRequest, type ManagementApiOptions } from './management-api';
import type { LocalQueue } from './queue';
import type { LocalS3 } from './s3';
import { serveExampleApp } from './example-app';

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
  /** Called with the port once it is open, before the backend is ready (the port may be 0: chosen by the system). */
  readonly onListening?: (port: number) => void;
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
  /** The S3 attachments are uploaded to (presigned URLs point at it). */
  readonly s3: LocalS3;
  /** The app instance behind the routes (the template's route function). */
  readonly gateway: Gateway;
  /**
   * The app instance behind the queue (the template's worker function): a separate instance
   * sharing only the stores, as in AWS, so a cancel takes the same path it takes there.
   */
  readonly worker: Gateway;
  connectionIds(): string[];
  /**
   * Resolves once every invocation the emulator started (routes and worker) has ended and the
   * queue is empty: whatever they sent has been written to the sockets by then.
   */
  idle(timeoutMs?: number): Promise<void>;
  /** Closes every connection (each gets its $disconnect), waits for handlers, then stops. */
  stop(): Promise<void>;
}

const PAGE = resolve(__dirname, '../../test-client.html');

/** Polls on a timer (never a microtask loop, which would starve the sockets it waits for). */
async function settle(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((tick) => setTimeout(tick, 20));
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((done, failed) => {
    server.once('error', failed);
    server.listen(port, host, () => {
      const address = server.address();
      done(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/**
 * Starts the API Gateway WebSocket emulator in front of the same handlers Lambda runs: the HTTP
 * server (WebSocket handshakes, `@connections`, the queue's SQS endpoint, the chat page), the
 * connections it holds, and the backend (route and worker instances). The port opens first,
 * because the app's endpoints name it; whatever arrives before the backend is ready waits.
 */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const { stage, host } = options.server;
  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>): void => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };
  let stopping = false;
  let backend: Backend | undefined;
  let markReady: (ready: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((done) => (markReady = done));

  const server = createServer();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void ready.then((ok) => (ok ? onUpgrade(req, socket, head) : refuse(socket, 503))).catch(() => refuse(socket, 500));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void ready
      .then((ok) => (ok ? onRequest(req, res) : void res.writeHead(503).end()))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  const port = await listen(server, options.server.port, host);
  options.onListening?.(port);
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    backend = await startBackend({ server: options.server, env: options.env, authority, deps: options.deps, clients: options.clients });
  } catch (error) {
    // A failed start must not leave the port open.
    markReady(false);
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    throw error;
  }
  const { gateway, worker, queue, deps, s3 } = backend;
  const log = deps.logger.child({ component: 'local-api-gateway' });
  const invoke = (event: WsEvent): Promise<number> => {
    options.onEvent?.(event);
    return (backend).invoke(event);
  };
  const connections = new Connections({ ...options.server, routes: new Set(ROUTE_KEYS), invoke, track, log });
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxMessageBytes });
  const handshakeOptions = {
    apiId: newApiId(),
    stage,
    authority,
    port,
    wss,
    gateway,
    invoke,
    track,
    opened: connections.add.bind(connections),
    stopping: () => stopping,
    log,
  };

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    return handshake(handshakeOptions, req, socket, head);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const lookup = (id: string) => connections.lookup(id);
    if (await handleManagementRequest(req, res, { stage, lookup, beforePost: options.beforePost })) return;
    if (await queue.handleRequest(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (await serveExampleApp(req, res, path)) return;
    if (req.method === 'GET' && ['/', '/index.html', `/${stage}`].includes(path)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(await readFile(PAGE));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found' }));
  }

  markReady(true);

  async function stop(): Promise<void> {
    stopping = true;
    connections.closeAll(1001, 'Going away: server shutting down');
    await settle(() => connections.size === 0, 1000);
    connections.terminateAll();
    // Every closed socket has queued its $disconnect; let those and running generations finish.
    await settle(() => connections.size === 0 && pending.size === 0, 5000);
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await (backend as Backend).close();
  }

  return {
    port,
    url: `ws://${authority}/${stage}`,
    pageUrl: `http://${authority}/`,
    managementEndpoint: `http://${authority}/${stage}`,
    queue,
    s3,
    gateway,
    worker,
    connectionIds: () => connections.ids(),
    idle: async (timeoutMs = 10_000) => {
      const quiet = (): boolean => pending.size === 0 && queue.depth.messages === 0 && queue.depth.invocations === 0;
      await settle(quiet, timeoutMs);
      if (!quiet()) throw new Error(`the emulator is still busy after ${timeoutMs} ms`);
    },
    stop,
  };
}
