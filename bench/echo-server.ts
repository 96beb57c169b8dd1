/**
 * The baseline for `npm run bench`: a raw `ws` server on loopback that echoes every message,
 * with nothing else — no routing, no store, no model. Prints its URL and runs until SIGTERM.
 */
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
server.on('listening', () => {
  const address = server.address();
  if (typeof address === 'object' && address !== null) process.stdout.write(`ECHO ws://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
