/**
 * How the Lambda bundles are made — one definition for `npm run build`, the bundle test and the
 * cold-start benchmark (SAM's esbuild builds the same entries with the same settings, see
 * template.yaml): minified CommonJS.
 *
 * The target is `node20`, the oldest Node the bundles must run on — the development machines and
 * CI run Node 20 and run these bundles (the bundle test, the bench) — while Lambda runs
 * nodejs24.x. esbuild's target only decides which syntax it rewrites for older engines; this
 * code has none newer than Node 20 reads, so node20, node22 and node24 give the same bytes
 * (the bundle test checks it), and Node 24 runs what Node 20 runs. A target of node24 would
 * buy nothing today and, the day the code used syntax Node 20 lacks, would ship bundles the
 * tests could no longer load. Move to it when the machines leave Node 20 (end of life since
 * 30 April 2026).
 */
import type { BuildOptions } from 'esbuild';

/**
 * One bundle per function, each holding only what it calls: api (the route function: every
 * WebSocket route; SQS, no Bedrock), jobs (the worker: Bedrock, no SQS client), authorizer
 * ($connect only, without the app).
 */
export const ENTRIES = { api: 'src/entries/api.ts', jobs: 'src/entries/jobs.ts', authorizer: 'src/authorizer.ts' } as const;

/**
 * Left out of every bundle, because no invocation in Lambda reaches them:
 * - Fastify's default schema compilers: the app hands Fastify its own factory
 *   (src/routes/no-schema-compilers.ts), so Fastify never requires them;
 * - the SDK's credential sources after the first: Lambda puts the role's credentials in the
 *   environment, which the default chain reads first; the chain imports the others (SSO, ini
 *   files, processes, web identity, container and instance metadata, with the nested STS/SSO
 *   clients they bring) lazily, and only if that fails — should it ever, the Node.js runtime's
 *   own copy of the SDK answers those imports;
 * - bowser, which the SDK imports lazily only to parse a browser's user agent;
 * - the Secrets Manager client, required only where a secret is configured (the authorizer's
 *   AUTH_JWT_SECRET_ARN, the worker's OPENAI_API_KEY_SECRET_ARN), at cold start: the Node.js
 *   runtime's own SDK v3 answers it, and ~300 KiB stay out of bundles that every cold start
 *   parses (the authorizer's, which every handshake may wait on, would grow fivefold);
 * - the S3 client, required only on the first upload to presign (route) or attachment to read
 *   (worker): the runtime's SDK v3 answers it too (its client-* packages are all there; the
 *   small presigner, a lib package, stays bundled), and ~190 KiB stay out of the route bundle,
 *   which would otherwise break its 1 MB budget.
 * The template's `External` lists are these (the template test checks it).
 */
export const EXTERNAL = [
  '@fastify/ajv-compiler',
  '@fastify/fast-json-stringify-compiler',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
  'bowser',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-s3',
];

export const BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The ES module build of each package where it has one: the AWS SDK's clients ship both, and
  // their CommonJS build is one file holding every command and schema of the service, which a
  // bundler cannot shake — the ES build keeps only the commands a bundle calls (the worker:
  // 974 → 624 KiB, and its cold `require` a third shorter; docs/BENCHMARKS.md).
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
  external: EXTERNAL,
};
