import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../app';
import { loadConfig } from '../config/config';
import { ConfigError, type Env } from '../config/env';
import type { LocalServerConfig } from '../config/local';
import { createDeps, type DepsOptions } from '../deps';
import { ALL_PARTS } from '../entries/all-parts';
import { createGateway, type Gateway } from '../gateway';
import type { WsEvent } from '../utils/lambda';
import { LocalQueue } from './queue';
import { LocalS3 } from './s3';

/** The bucket of the emulator's S3, where attachments are uploaded. */
export const LOCAL_BUCKET = 'local-attachments';

/** The emulator signs nothing it checks; the SDK still needs credentials to sign with. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const QUEUE_NAME = 'ws-llm-gateway-jobs';

export interface BackendOptions {
  readonly server: LocalServerConfig;
  readonly env: Env;
  /** Where the emulator listens (`host:port`): the app posts and queues there. */
  readonly authority: string;
  readonly deps?: Partial<AppDeps>;
  readonly clients?: Omit<DepsOptions, 'localCredentials'>;
}

/** What stands behind the emulated API Gateway: the two functions of the template, and the queue between them. */
export interface Backend {
  readonly deps: AppDeps;
  /** The route function's app instance. */
  readonly gateway: Gateway;
  /** The worker function's app instance: a separate instance sharing only the stores, as in AWS. */
  readonly worker: Gateway;
  readonly queue: LocalQueue;
  /** The S3 the attachments are uploaded to and read from, on a port of its own. */
  readonly s3: LocalS3;
  /** The integration: one event through the route function, as API Gateway invokes it; its status. */
  invoke(event: WsEvent): Promise<number>;
  close(): Promise<void>;
}

/**
 * Reads the app's configuration (with the emulator's own endpoints), creates its clients and
 * stores once — creating the DynamoDB table against a local endpoint — and starts two app
 * instances on them: the route function and the worker, which the in-process queue feeds.
 */
export async function startBackend(options: BackendOptions): Promise<Backend> {
  const origin = `http://${options.authority}`;
  const s3 = new LocalS3({ bucket: LOCAL_BUCKET, region: options.env['AWS_REGION'] ?? 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const s3Endpoint = await s3.start(options.server.host);
  try {
    return await startWith(options, origin, s3, s3Endpoint);
  } catch (error) {
    // A failed start must not leave the S3 port open.
    await s3.stop();
    throw error;
  }
}

async function startWith(options: BackendOptions, origin: string, s3: LocalS3, s3Endpoint: string): Promise<Backend> {
  const config = loadConfig(options.env, {
    managementEndpoint: `${origin}/${options.server.stage}`,
    queue: { url: `${origin}/000000000000/${QUEUE_NAME}` },
    attachments: { bucket: LOCAL_BUCKET, endpoint: s3Endpoint },
  });
  // Read once by the app's config; the emulated queue and Lambda follow it.
  const queueOptions = { ...options.server.queue, maxReceiveCount: config.queue.maxReceiveCount, workerTimeoutMs: config.worker.defaultTimeoutMs };
  if (queueOptions.visibilityTimeoutMs <= queueOptions.workerTimeoutMs) {
    throw new ConfigError(['QUEUE_VISIBILITY_TIMEOUT_MS must be above WORKER_TIMEOUT_MS, or a running job is delivered twice']);
  }
  const base = createDeps(config, { ...options.clients, localCredentials: LOCAL_CREDENTIALS }, ALL_PARTS);
  // Against a local DynamoDB endpoint, create the table first (in AWS the template owns it).
  if (options.deps?.connections === undefined) await base.prepare();
  const deps: AppDeps = { ...base, ...options.deps };
  const [gateway, worker] = await Promise.all([createGateway(deps), createGateway(deps)]);
  const queue = new LocalQueue(origin, QUEUE_NAME, queueOptions, deps.logger.child({ component: 'local-sqs' }));
  queue.attach(worker.worker);
  const log = deps.logger.child({ component: 'local-api-gateway' });
  s3.log = deps.logger.child({ component: 'local-s3' });
  return {
    deps,
    gateway,
    worker,
    queue,
    s3,
    invoke: async (event) => {
      try {
        const result = await gateway.handler(event, { awsRequestId: randomUUID(), functionName: 'ws-gateway-local' });
        return result.statusCode;
      } catch (error) {
        log.error({ err: error, routeKey: event.requestContext.routeKey }, 'integration failed');
        return 500;
      }
    },
    close: async () => {
      await queue.stop(5000);
      await Promise.all([gateway.app.close(), worker.app.close(), s3.stop()]);
    },
  };
}
