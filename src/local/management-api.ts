import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS } from '../models/limits';

/** One open connection, as the @connections API sees it. */
export interface ManagedConnection {
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /** Sends one text message; resolves once it is written to the socket. */
  send(data: Buffer): Promise<void>;
  /** Closes the connection from the server side ($disconnect follows). */
  close(): void;
}

/** A fault a test can inject into POST @connections (status and AWS error type). */
export interface PostFault {
  readonly status: number;
  readonly errorType: string;
}

export interface ManagementApiOptions {
  readonly stage: string;
  readonly lookup: (connectionId: string) => ManagedConnection | undefined;
  /** Test hook: delay a post, or fail it as AWS would. */
  readonly beforePost?: (connectionId: string, data: Buffer) => Promise<PostFault | undefined> | PostFault | undefined;
}

const PATH = /^(?:\/([^/]+))?\/@connections\/([^/]+)$/;

function fail(res: ServerResponse, status: number, errorType: string, message: string | null): void {
  // restJson1: the SDK reads the error name from this header and raises e.g. GoneException.
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': errorType });
  res.end(JSON.stringify({ message }));
}

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    const buffer = part as Buffer;
    size += buffer.length;
    if (size > limit) return undefined;
    parts.push(buffer);
  }
  return Buffer.concat(parts);
}

/**
 * The API Gateway Management API (`/@connections/{id}` and `/{stage}/@connections/{id}`):
 * POST sends, GET describes, DELETE disconnects; an unknown id is 410 GoneException. Request
 * signatures are accepted unchecked. Returns false when the path is not an @connections path.
 */
export async function handleManagementRequest(
  req: IncomingMessage,
  res: ServerResponse,
  options: ManagementApiOptions,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = PATH.exec(url.pathname);
  if (!match) return false;
  const [, stage, encodedId] = match;
  if (stage !== undefined && stage !== options.stage) {
    fail(res, 403, 'ForbiddenException', 'Forbidden');
    return true;
  }
  let connectionId: string;
  try {
    connectionId = decodeURIComponent(encodedId ?? '');
  } catch {
    fail(res, 400, 'BadRequestException', 'Invalid connection id');
    return true;
  }
  const connection = options.lookup(connectionId);
  switch (req.method) {
    case 'POST': {
      const data = await readBody(req, LIMITS.maxMessageBytes);
      if (data === undefined) return (fail(res, 413, 'PayloadTooLargeException', 'Message too long'), true);
      const fault = await options.beforePost?.(connectionId, data);
      if (fault) return (fail(res, fault.status, fault.errorType, null), true);
      const target = options.lookup(connectionId);
      if (!target) return (fail(res, 410, 'GoneException', null), true);
      try {
        await target.send(data);
      } catch {
        // The socket closed between the lookup and the write: for the caller it is gone.
        return (fail(res, 410, 'GoneException', null), true);
      }
      target.lastActiveAt = Date.now();
      res.writeHead(200).end();
      return true;
    }
    case 'GET':
      if (!connection) return (fail(res, 410, 'GoneException', null), true);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        }),
      );
      return true;
    case 'DELETE':
      if (!connection) return (fail(res, 410, 'GoneException', null), true);
      connection.close();
      res.writeHead(204).end();
      return true;
    default:
      fail(res, 404, 'NotFoundException', 'Not Found');
      return true;
  }
}
