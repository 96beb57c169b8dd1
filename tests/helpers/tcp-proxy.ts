import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 (port 0, bound once and kept) in front of a local server: it can cut
 * every connection through it, as a network drop does, and be pointed at another port — so a
 * test can restart the server behind one address without freeing a port and binding it again.
 * While it points nowhere it refuses connections, as a server that is down does.
 */
export class TcpProxy {
  private readonly pipes = new Set<net.Socket>();
  private target: number | undefined;

  private constructor(private readonly server: net.Server) {}

  static async start(target: number | undefined): Promise<TcpProxy> {
    const server = net.createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (inbound) => proxy.accept(inbound));
    proxy.target = target;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  url(path = '/local'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Sends new connections to `port` (undefined: refuses them). */
  pointAt(port: number | undefined): void {
    this.target = port;
  }

  /** Resets every connection through the proxy. */
  cut(): void {
    for (const socket of this.pipes) socket.resetAndDestroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.pipes) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(inbound: net.Socket): void {
    if (this.target === undefined) {
      inbound.resetAndDestroy();
      return;
    }
    const outbound = net.connect(this.target, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      this.pipes.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.pipes.delete(socket));
    }
    inbound.pipe(outbound).pipe(inbound);
  }
}
