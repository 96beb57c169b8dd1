/**
 * How the Lambda bundles are made — one definition for `npm run build`, the bundle test and the
 * cold-start benchmark (SAM's esbuild builds the same entries with the same settings, see
 * template.yaml): minified CommonJS for Node 20+ (Lambda runs nodejs22.x; our machines Node 20).
 */
import type { BuildOptions } from 'esbuild';

/**
 * One bundle per function, each holding only what it calls: api (the route function: every
 * WebSocket route; SQS, no Bedrock), jobs (the worker: Bedrock, no SQS client), authorizer
 * ($connect only, without the app).
 */
export const ENTRIES = { api: 'src/entries/api.ts', jobs: 'src/entries/jobs.ts', authorizer: 'src/authorizer.ts' } as const;

export const BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
};
