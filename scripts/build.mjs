// Bundles each Lambda entry with esbuild: minified CommonJS for Node 20+ (Lambda runs
// nodejs22.x; our machines run Node 20), with source maps for readable stack traces.
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';

// index: the app (API Gateway integration and SQS worker); authorizer: $connect only, without the app.
const entries = { index: 'src/index.ts', authorizer: 'src/authorizer.ts' };

const result = await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

for (const output of Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'))) {
  const { size } = await stat(output);
  console.log(`${output}  ${(size / 1024).toFixed(1)} KiB`);
}
