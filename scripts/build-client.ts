/**
 * `npm run build:client`: the client package in client/dist — the protocol types regenerated
 * from the server's modules, an ES module (esbuild, no dependencies), its .d.ts (tsc), and a
 * minified copy that the benchmarks measure; and the chat page's inlined copy.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { generateClientProtocol, GENERATED } from './client-protocol';

export const CLIENT_DIST = resolve(__dirname, '../client/dist');
export const PAGE = resolve(__dirname, '../test-client.html');
const BEGIN = '/* client:begin */';
const END = '/* client:end */';

/** The client as one script for the chat page: `window.GatewayClientLib`, minified. */
export async function pageScript(): Promise<string> {
  const result = await build({
    entryPoints: [resolve(__dirname, '../client/src/index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'GatewayClientLib',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  const code = result.outputFiles[0]?.text.trim() ?? '';
  if (code.includes('</script')) throw new Error('the client bundle would end its own script element');
  return code;
}

/** The chat page with `code` between its client markers. */
export function withClient(page: string, code: string): string {
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin < 0 || end < begin) throw new Error('test-client.html has no client markers');
  return `${page.slice(0, begin + BEGIN.length)}\n${code}\n${page.slice(end)}`;
}

/**
 * Builds client/dist. With `sources` (the default, as `npm run build:client` runs it) it first
 * regenerates the protocol file and afterwards inlines the client into the chat page; the tests
 * build without touching those, and check that the committed ones are current.
 */
export async function buildClient({ sources = true }: { sources?: boolean } = {}): Promise<void> {
  if (sources) writeFileSync(GENERATED, generateClientProtocol());
  rmSync(CLIENT_DIST, { recursive: true, force: true });
  const common = { bundle: true, platform: 'neutral', target: 'es2022', logLevel: 'warning' } as const;
  const entryPoints = [resolve(__dirname, '../client/src/index.ts')];
  // Two entries sharing one copy of the client (splitting): `@ws-llm-gateway/client` and its
  // `/ai-sdk` subpath, so a page that does not import the transport loads none of it, and a
  // GatewayError is one class whichever entry made it.
  await build({
    ...common,
    entryPoints: { index: entryPoints[0]!, 'ai-sdk': resolve(__dirname, '../client/src/ai-sdk/index.ts') },
    format: 'esm',
    splitting: true,
    outdir: CLIENT_DIST,
    chunkNames: 'shared-[hash]',
  });
  await build({ ...common, entryPoints, format: 'esm', minify: true, outfile: `${CLIENT_DIST}/index.min.js` });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', resolve(__dirname, '../client/tsconfig.json')], { stdio: 'inherit' });
  // The chat page carries the client inline, so it works opened from disk as well as served.
  if (sources) writeFileSync(PAGE, withClient(readFileSync(PAGE, 'utf8'), await pageScript()));
}

if (require.main === module) {
  buildClient().then(
    () => process.stdout.write(`client built in ${CLIENT_DIST}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
