import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppDeps } from './app';
import type { AppConfig } from './config/config';
import { createBedrockClient, createChatModel } from './llm';
import { createSqsClient, SqsJobQueue } from './queue/sqs-job-queue';
import { createDynamoClient, createStores } from './stores';
import { createLogger } from './utils/logger';
import { EmfMetrics, NoMetrics } from './utils/metrics';
import { createManagementClient, ManagementApiSender, type ManagementClientOptions } from './utils/websocket';

export interface DepsOptions {
  /**
   * Static credentials for the clients of the local emulator's endpoints (@connections, the
   * queue, and a local DynamoDB), which check no signature; in AWS the function role's are used.
   */
  readonly localCredentials?: ManagementClientOptions['credentials'];
  /** A Bedrock client made elsewhere (tests point one at the Bedrock emulator). */
  readonly bedrockClient?: BedrockRuntimeClient;
  /** A DynamoDB client made elsewhere (tests point one at dynalite). */
  readonly dynamoClient?: DynamoDBClient;
}

/**
 * Creates the clients and stores of one cold start from config. Every AWS SDK client is made
 * here, once, and handed to the app: the adapters say how each is built (createManagementClient,
 * createSqsClient, createDynamoClient, createBedrockClient), and only this file calls them.
 */
export function createDeps(config: AppConfig, options: DepsOptions = {}): AppDeps & { readonly prepare: () => Promise<void> } {
  const credentials = options.localCredentials ? { credentials: options.localCredentials } : {};
  const managementClient = createManagementClient({
    endpoint: config.managementEndpoint,
    region: config.region,
    maxAttempts: config.postMaxAttempts,
    ...credentials,
  });
  const sqsClient = createSqsClient({ queueUrl: config.queue.url, region: config.region, maxAttempts: config.queue.maxAttempts, ...credentials });
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
    queue: new SqsJobQueue(sqsClient, config.queue.url),
    model: createChatModel(config, () => options.bedrockClient ?? createBedrockClient(config)),
    metrics: config.metrics === 'emf' ? new EmfMetrics(config.serviceName) : new NoMetrics(),
  };
}
