import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Gateway } from '../gateway';
import type { Logger } from '../utils/logger';
import type { WsEvent } from '../utils/lambda';
import { connectEvent, disconnectEvent, disconnectReason, type EventSource } from './events';
import { newConnectionId } from './ids';
import { guardFrameSize } from './frame-guard';
import { LIMITS } from '../models/limits';

export interface HandshakeOptions {
  readonly apiId: string;
  readonly stage: string;
  /** `host:port`, the domain name events carry. */
  readonly authority: string;
  readonly port: number;
  readonly wss: WebSocketServer;
  /** The route function's instance: its authorizer runs before $connect. */
  readonly gateway: Gateway;
  readonly invoke: (event: WsEvent) => Promise<number>;
  readonly track: (work: Promise<unknown>) => void;
  /** Called with a socket whose handshake and $connect succeeded. */
  readonly opened: (socket: WebSocket, source: EventSource) => void;
  readonly stopping: () => boolean;
  readonly log: Logger;
}

/** Answers an upgrade request with an HTTP status and closes it. */
export function refuse(socket: Duplex, status: number): void {
  const body = JSON.stringify({ message: STATUS_CODES[status] ?? 'Error' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * A WebSocket handshake as API Gateway runs it: the path must be the stage's; the authorizer
 * runs first (Unauthorized → 401, a Deny policy → 403, a failure → 500); then $connect, whose
 * non-2xx status refuses the handshake. Every connection whose $connect succeeded gets its
 * $disconnect, even when the client gave up (closed or half-closed) while $connect ran.
 */
export async function handshake(options: HandshakeOptions, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { stage, apiId, authority, port, invoke, track, log } = options;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '');
  if (path !== '' && path !== `/${stage}`) return refuse(socket, 404);
  if (options.stopping()) return refuse(socket, 503);
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
  const authorized = await authorize(options, anonymous, req, url);
  if (typeof authorized === 'number') return refuse(socket, authorized);
  const source: EventSource = { ...anonymous, authorizer: authorized };
  const status = await invoke(connectEvent(source, req.rawHeaders, url.searchParams, port));
  if (status < 200 || status > 299) return refuse(socket, status);
  let opened = false;
  const abandoned = (): void => {
    if (!opened) track(invoke(disconnectEvent(source, 1006, disconnectReason(1006, '', false))));
  };
  if (socket.destroyed) return abandoned();
  // ws drops a socket that is no longer readable and writable without calling back: 'close' tells.
  socket.once('close', abandoned);
  options.wss.handleUpgrade(req, socket, head, (ws) => {
    opened = true;
    socket.off('close', abandoned);
    // API Gateway's 32 KB frame: `ws` checks only the 128 KB message.
    guardFrameSize(socket, ws, LIMITS.maxFrameBytes);
    options.opened(ws, source);
  });
  log.debug({ connectionId: source.connectionId }, 'handshake accepted');
}

/**
 * Runs the route function's authorizer on the upgrade request. An Allow yields the context every
 * later event carries, with the `principalId` and `integrationLatency` API Gateway adds.
 */
async function authorize(
  options: HandshakeOptions,
  source: EventSource,
  req: IncomingMessage,
  url: URL,
): Promise<Readonly<Record<string, unknown>> | undefined | number> {
  const { authorizer } = options.gateway;
  if (!authorizer) return undefined;
  const methodArn = `arn:aws:execute-api:local:000000000000:${options.apiId}/${options.stage}/$connect`;
  const event = { ...connectEvent(source, req.rawHeaders, url.searchParams, options.port), type: 'REQUEST' as const, methodArn };
  const started = Date.now();
  try {
    const result = await authorizer(event);
    const allowed = result.policyDocument.Statement.some((s) => s.Effect === 'Allow' && (s.Resource === methodArn || s.Resource === '*'));
    if (!allowed) return 403;
    return { ...result.context, principalId: result.principalId, integrationLatency: Date.now() - started };
  } catch (error) {
    if (error instanceof Error && error.message === 'Unauthorized') return 401;
    options.log.error({ err: error }, 'authorizer failed');
    return 500;
  }
}
