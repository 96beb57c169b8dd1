/**
 * `npm run build:client`: the client package in client/dist — the protocol types regenerated
 * from the server's modules, an ES module (esbuild, no dependencies), its .d.ts (tsc), and a
 * minified copy that the benchmarks measure.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { generateClientProtocol, GENERATED } from './client-protocol';

export const CLIENT_DIST = resolve(__dirname, '../client/dist');

export async function buildClient(): Promise<void> {
  writeFileSync(GENERATED, generateClientProtocol());
  rmSync(CLIENT_DIST, { recursive: true, force: true });
  const common = { bundle: true, platform: 'neutral', target: 'es2022', logLevel: 'warning' } as const;
  const entryPoints = [resolve(__dirname, '../client/src/index.ts')];
  await build({ ...common, entryPoints, format: 'esm', outfile: `${CLIENT_DIST}/index.js` });
  await build({ ...common, entryPoints, format: 'esm', minify: true, outfile: `${CLIENT_DIST}/index.min.js` });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', resolve(__dirname, '../client/tsconfig.json')], { stdio: 'inherit' });
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
