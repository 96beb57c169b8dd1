/** `npm run build`: the Lambda bundles into dist/, with source maps for readable stack traces. */
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import { BUNDLE_OPTIONS, ENTRIES } from './bundle';

async function main(): Promise<void> {
  const result = await build({ ...BUNDLE_OPTIONS, entryPoints: ENTRIES, outdir: 'dist', sourcemap: true, metafile: true, logLevel: 'warning' });
  for (const output of Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'))) {
    const { size } = await stat(output);
    process.stdout.write(`${output}  ${(size / 1024).toFixed(1)} KiB\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
