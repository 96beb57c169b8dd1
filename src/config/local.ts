import { EnvReader, type Env } from './env';

/**
 * Settings of the local API Gateway emulator (`npm run local`). What the app reads too (the
 * worker timeout, the queue's receive count) is read once, by the app's config, and taken from there.
 */
export interface LocalServerConfig {
  readonly port: number;
  readonly host: string;
  readonly stage: string;
  /** API Gateway closes a connection after 10 minutes without messages. */
  readonly idleTimeoutMs: number;
  /** API Gateway closes every connection after 2 hours. */
  readonly maxConnectionMs: number;
  /** The in-process queue in front of the worker, as the template configures SQS and Lambda. */
  readonly queue: {
    readonly visibilityTimeoutMs: number;
    /**
     * Worker invocations at once, as the event source's MaximumConcurrency bounds them. Each runs
     * up to `batchSize` answers side by side, so up to maxInvocations × batchSize generations run.
     */
    readonly maxInvocations: number;
    /** Records per worker invocation, as the template's event source batches them. */
    readonly batchSize: number;
  };
}

export function loadLocalServerConfig(env: Env, read = new EnvReader(env)): LocalServerConfig {
  const stage = read.string('STAGE', 'local');
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(stage)) read.problem('STAGE', `STAGE must match [A-Za-z0-9_-]{1,128}, got "${stage}"`);
  const config: LocalServerConfig = {
    port: read.int('PORT', 3000, 0, 65535),
    host: read.string('HOST', '127.0.0.1'),
    stage,
    idleTimeoutMs: read.int('IDLE_TIMEOUT_MS', 10 * 60 * 1000, 100, 24 * 3600 * 1000),
    maxConnectionMs: read.int('MAX_CONNECTION_MS', 2 * 3600 * 1000, 100, 7 * 24 * 3600 * 1000),
    queue: {
      visibilityTimeoutMs: read.int('QUEUE_VISIBILITY_TIMEOUT_MS', 960_000, 10, 12 * 3600 * 1000),
      maxInvocations: read.int('WORKER_MAX_INVOCATIONS', 10, 1, 1000),
      batchSize: read.int('WORKER_BATCH_SIZE', 4, 1, 10),
    },
  };
  if (env['WORKER_MAX_CONCURRENCY'] !== undefined) {
    // Renamed because it never bounded generations: say so rather than ignore it.
    read.problem(
      'WORKER_MAX_CONCURRENCY',
      'WORKER_MAX_CONCURRENCY is now WORKER_MAX_INVOCATIONS: it bounds worker invocations, each running up to WORKER_BATCH_SIZE answers at once',
    );
  }
  read.assertValid();
  return config;
}
