import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

/** The gateway URL the README's snippets are written with; a test puts the emulator's in its place. */
export const README_URL = 'wss://abc123.execute-api.us-east-1.amazonaws.com/prod';

/**
 * A code block of client/README.md, by the file name its marker gives it
 * (`<!-- compiled and run by the tests …: readme-usechat.tsx -->`).
 */
export function readmeBlock(file: string): string {
  const readme = readFileSync(resolve('client/README.md'), 'utf8');
  for (const [, name, code] of readme.matchAll(/<!-- (?:compiled and run|type-checked) by the tests[^:]*: ([\w.-]+) -->\n```\w+\n([\s\S]*?)\n```/g)) {
    if (name === file) return code!;
  }
  throw new Error(`client/README.md has no block marked ${file}`);
}

/**
 * A README snippet that exports a `Chat` component, as an app would ship it: rendered into
 * `#root` by React, bundled with the repository's React and AI SDK, the client and its transport
 * taken from the client's sources (as examples/react-chat does), and its gateway URL the given one — the snippet
 * must name README_URL exactly once, so an edited README cannot silently test nothing.
 */
export async function bundleReactSnippet(code: string, gatewayUrl: string): Promise<string> {
  const uses = code.split(`'${README_URL}'`).length - 1;
  if (uses !== 1) throw new Error(`the snippet names '${README_URL}' ${uses} times, not once`);
  const dir = mkdtempSync(join(tmpdir(), 'readme-app-'));
  try {
    writeFileSync(join(dir, 'snippet.tsx'), code.replace(`'${README_URL}'`, JSON.stringify(gatewayUrl)));
    writeFileSync(join(dir, 'main.tsx'), "import { createRoot } from 'react-dom/client';\nimport { Chat } from './snippet';\ncreateRoot(document.getElementById('root')!).render(<Chat />);\n");
    const result = await build({
      entryPoints: [join(dir, 'main.tsx')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      jsx: 'automatic',
      write: false,
      logLevel: 'error',
      nodePaths: [resolve('node_modules')],
      // Both entries from the sources: one copy of the client (its GatewayError one class).
      alias: { '@ws-llm-gateway/client/ai-sdk': resolve('client/src/ai-sdk/index.ts'), '@ws-llm-gateway/client': resolve('client/src/index.ts') },
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    return result.outputFiles[0]!.text;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A page of one bundled snippet, served on 127.0.0.1 (port 0) until `stop()`. */
export interface ReadmeApp {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Serves a bundled snippet: its page at `/`, its script, and `/jwt` (what the snippets' token
 * function fetches) answered by `jwt`. A server of its own on loopback, as the emulator is:
 * Chromium refuses a socket to a loopback address from a page it did not load from one.
 */
export async function serveApp(script: string, jwt: () => Promise<string>): Promise<ReadmeApp> {
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>README app</title><link rel="icon" href="data:,"></head><body><div id="root"></div><script type="module" src="/app.js"></script></body></html>';
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (path === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    else if (path === '/jwt') void jwt().then((token) => res.writeHead(200, { 'content-type': 'text/plain' }).end(token));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
