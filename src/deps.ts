import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AppDeps } from './app';
import type { AppConfig } from './config/config';
import type { ChatModel } from './llm/chat-model';
import type { JobQueue } from './queue/job-queue';
import { createDynamoClient, createStores, type LocalCredentials } from './stores';
import { createLogger } from './utils/logger';
import { lazyS3Attachments } from './attachments/lazy-s3-store';
import { EmfMetrics, NoMetrics } from './utils/metrics';
import { createManagementClient, ManagementApiSender } from './utils/websocket';

export interface DepsOptions {
  /**
   * Static credentials for the clients of the local emulator's endpoints (@connections, the
   * queue, and a local DynamoDB), which check no signature; in AWS the function role's are used.
   */
  readonly localCredentials?: LocalCredentials;
  /** A Bedrock client made elsewhere (tests point one at the Bedrock emulator). */
  readonly bedrockClient?: BedrockRuntimeClient;
  /** A DynamoDB client made elsewhere (tests point one at dynalite). */
  readonly dynamoClient?: DynamoDBClient;
  /** A Secrets Manager client made elsewhere (tests point one at a stand-in). */
  readonly secretsClient?: SecretsManagerClient;
}

/**
 * The parts only some functions use, given by each entry: the route function queues jobs and
 * never calls a model; the worker calls the model and never queues. Each entry passes real
 * factories for its own part and `unused` for the other, so its bundle holds no SDK client it
 * would never call (see src/entries/).
 */
export interface DepsParts {
  readonly queue: (config: AppConfig, options: DepsOptions) => JobQueue;
  readonly model: (config: AppConfig, options: DepsOptions) => ChatModel;
}

/**
 * Creates the clients and stores of one cold start from config. Every AWS SDK client is made
 * here or by the parts this file is given, once, and handed to the app: the adapters say how
 * each is built (createManagementClient, createDynamoClient, and in the parts createSqsClient
 * and createBedrockClient), and only the deps and the parts call them.
 */
export function createDeps(config: AppConfig, options: DepsOptions, parts: DepsParts): AppDeps & { readonly prepare: () => Promise<void> } {
  const credentials = options.localCredentials ? { credentials: options.localCredentials } : {};
  const managementClient = createManagementClient({
    endpoint: config.managementEndpoint,
    region: config.region,
    maxAttempts: config.postMaxAttempts,
    ...credentials,
  });
  // Made only when the configuration needs them (a memory store makes no DynamoDB client).
  const stores = createStores(config, () => options.dynamoClient ?? createDynamoClient(config, options.localCredentials));
  return {
    prepare: stores.prepare,
    config,
    logger: createLogger(config.logLevel),
    sender: new ManagementApiSender(managementClient),
    connections: stores.connections,
    requests: stores.requests,
    counters: stores.counters,
    streams: stores.streams,
    conversations: stores.conversations,
    queue: parts.queue(config, options),
    model: parts.model(config, options),
    metrics: config.metrics === 'emf' ? new EmfMetrics(config.serviceName) : new NoMetrics(),
    attachments: lazyS3Attachments(config, options.localCredentials),
  };
}
