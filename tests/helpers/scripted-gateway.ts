import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A stand-in gateway on 127.0.0.1 whose answers a test writes: it records every frame a client
 * sends and answers each with whatever `answer` returns (nothing, for a server that stays silent).
 */
export class ScriptedGateway {
  readonly received: Array<Record<string, unknown>> = [];
  readonly sockets: WebSocket[] = [];
  private readonly server: WebSocketServer;

  private constructor(
    server: WebSocketServer,
    private readonly answer: (frame: Record<string, unknown>, socket: WebSocket) => void,
  ) {
    this.server = server;
    server.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        this.received.push(frame);
        this.answer(frame, socket);
      });
    });
  }

  static async start(answer: (frame: Record<string, unknown>, socket: WebSocket) => void = () => undefined): Promise<ScriptedGateway> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new ScriptedGateway(server, answer);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/local`;
  }

  /** The frames received with one action. */
  sent(action: string): Array<Record<string, unknown>> {
    return this.received.filter((frame) => frame['action'] === action);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
