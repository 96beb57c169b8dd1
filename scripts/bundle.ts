/**
 * How the Lambda bundles are made — one definition for `npm run build`, the bundle test and the
 * cold-start benchmark (SAM's esbuild builds the same entries with the same settings, see
 * template.yaml): minified CommonJS for Node 20+ (Lambda runs nodejs22.x; our machines Node 20).
 */
import type { BuildOptions } from 'esbuild';

/** index: the app (API Gateway integration and SQS worker); authorizer: $connect only, without the app. */
export const ENTRIES = { index: 'src/index.ts', authorizer: 'src/authorizer.ts' } as const;

export const BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
};
