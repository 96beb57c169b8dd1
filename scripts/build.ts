/**
 * `npm run build`: the Lambda bundles into dist/. Source maps only when asked
 * (`ENABLE_SOURCE_MAPS=true npm run build`), as `sam build` makes them only with
 * EnableSourceMaps=true: a map is 4 to 6 times its bundle (docs/DEPLOYING.md, "Source maps").
 */
import { build } from 'esbuild';
import { rm, stat } from 'node:fs/promises';
import { BUNDLE_OPTIONS, ENTRIES } from './bundle';

async function main(): Promise<void> {
  const sourcemap = process.env['ENABLE_SOURCE_MAPS'] === 'true';
  await rm('dist', { recursive: true, force: true }); // no map of an earlier build left beside a bundle
  const result = await build({ ...BUNDLE_OPTIONS, entryPoints: ENTRIES, outdir: 'dist', sourcemap, metafile: true, logLevel: 'warning' });
  for (const output of Object.keys(result.metafile.outputs)) {
    const { size } = await stat(output);
    process.stdout.write(`${output}  ${(size / 1024).toFixed(1)} KiB\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
