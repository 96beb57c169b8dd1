import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

/** The built React example (examples/react-chat, `npm run build:examples`), served at /react/. */
const ROOT = resolve(__dirname, '../../examples/react-chat/dist');
const PREFIX = '/react/';
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves the example's files; returns false for a path that is not its. */
export async function serveExampleApp(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method !== 'GET' || (path !== '/react' && !path.startsWith(PREFIX))) return false;
  const relative = path.length <= PREFIX.length ? 'index.html' : decodeURIComponent(path.slice(PREFIX.length));
  const file = normalize(join(ROOT, relative));
  // Nothing outside the build's directory, whatever the path says.
  if (!file.startsWith(`${ROOT}/`)) {
    res.writeHead(404).end();
    return true;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(relative === 'index.html' ? 'The React example is not built: npm run build:examples\n' : 'Not Found\n');
  }
  return true;
}
