import { WebSocket, type RawData } from 'ws';
import type { Logger } from '../utils/logger';
import type { WsEvent } from '../utils/lambda';
import { disconnectEvent, disconnectReason, messageEvent, selectRoute, type EventSource } from './events';
import type { ManagedConnection } from './management-api';
import { closedForFrameSize } from './frame-guard';

interface Connection extends EventSource, ManagedConnection {
  readonly socket: WebSocket;
  closedByServer?: { code: number; reason: string };
  readonly timers: NodeJS.Timeout[];
}

export interface ConnectionsOptions {
  readonly idleTimeoutMs: number;
  readonly maxConnectionMs: number;
  /** The route keys the API declares: what `$request.body.action` may select. */
  readonly routes: ReadonlySet<string>;
  /** Runs one event through the integration; resolves to its status. */
  readonly invoke: (event: WsEvent) => Promise<number>;
  /** Keeps track of work still running (stop waits for it). */
  readonly track: (work: Promise<unknown>) => void;
  readonly log: Logger;
}

/**
 * The open WebSocket connections, as API Gateway holds them: each message becomes a MESSAGE
 * event on the route its `action` selects (its own concurrent invocation), each close a
 * DISCONNECT event, and the idle timeout and the maximum duration close them with 1001.
 */
export class Connections {
  private readonly open = new Map<string, Connection>();

  constructor(private readonly options: ConnectionsOptions) {}

  get size(): number {
    return this.open.size;
  }

  ids(): string[] {
    return [...this.open.keys()];
  }

  /** An open connection, for the @connections API. */
  lookup(connectionId: string): ManagedConnection | undefined {
    const connection = this.open.get(connectionId);
    return connection?.socket.readyState === WebSocket.OPEN ? connection : undefined;
  }

  /** Closes every connection from the server side (each gets its $disconnect). */
  closeAll(code: number, reason: string): void {
    for (const connection of this.open.values()) this.closeFromServer(connection, code, reason);
  }

  terminateAll(): void {
    for (const connection of this.open.values()) connection.socket.terminate();
  }

  /** Takes over a socket whose handshake and $connect succeeded. */
  add(socket: WebSocket, source: EventSource): void {
    const { idleTimeoutMs, maxConnectionMs, invoke, track, routes, log } = this.options;
    const connection: Connection = {
      ...source,
      socket,
      lastActiveAt: Date.now(),
      timers: [],
      send: (data) => new Promise<void>((done, failed) => socket.send(data, { binary: false }, (err) => (err ? failed(err) : done()))),
      close: () => this.closeFromServer(connection, 1000, 'Connection deleted through the @connections API'),
    };
    const idle = setTimeout(() => this.closeFromServer(connection, 1001, 'Going away: idle timeout'), idleTimeoutMs);
    const max = setTimeout(() => this.closeFromServer(connection, 1001, 'Going away: maximum connection duration'), maxConnectionMs);
    connection.timers.push(idle, max);
    this.open.set(source.connectionId, connection);

    socket.on('message', (data: RawData, isBinary: boolean) => {
      // A message with a frame over 32 KB closed the connection (1009): API Gateway routes none of it.
      if (closedForFrameSize.has(socket)) return;
      idle.refresh();
      connection.lastActiveAt = Date.now();
      if (isBinary) return this.closeFromServer(connection, 1003, 'Binary frames are not supported');
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
      this.open.delete(source.connectionId);
      const byServer = connection.closedByServer;
      const text = disconnectReason(code, byServer?.reason ?? reason.toString('utf8'), byServer !== undefined);
      track(invoke(disconnectEvent(connection, byServer?.code ?? code, text)));
    });
  }

  private closeFromServer(connection: Connection, code: number, reason: string): void {
    connection.closedByServer ??= { code, reason };
    connection.socket.close(code, reason);
    // A client that never answers the close handshake is cut off, as API Gateway does.
    connection.timers.push(setTimeout(() => connection.socket.terminate(), 2000).unref());
  }
}
