import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppDeps } from './app';
import type { AppConfig } from './config/config';
import { createChatModel } from './llm';
import { createStores } from './stores';
import { createLogger } from './utils/logger';
import { createManagementClient, ManagementApiSender, type ManagementClientOptions } from './utils/websocket';

export interface DepsOptions {
  /** Static credentials for the management client (the local emulator's fake ones). */
  readonly managementCredentials?: ManagementClientOptions['credentials'];
  /** A Bedrock client made elsewhere (tests point one at the Bedrock emulator). */
  readonly bedrockClient?: BedrockRuntimeClient;
  /** A DynamoDB client made elsewhere (tests point one at dynalite). */
  readonly dynamoClient?: DynamoDBClient;
}

/**
 * Creates the clients and stores of one cold start from config. Every AWS SDK client is made
 * here, once, and handed to the app; nothing below this file constructs a client.
 */
export function createDeps(config: AppConfig, options: DepsOptions = {}): AppDeps & { readonly prepare: () => Promise<void> } {
  const managementClient = createManagementClient({
    endpoint: config.managementEndpoint,
    region: config.region,
    maxAttempts: config.postMaxAttempts,
    ...(options.managementCredentials ? { credentials: options.managementCredentials } : {}),
  });
  const stores = createStores(config, options.dynamoClient);
  return {
    prepare: stores.prepare,
    config,
    logger: createLogger(config.logLevel),
    sender: new ManagementApiSender(managementClient),
    connections: stores.connections,
    requests: stores.requests,
    counters: stores.counters,
    model: createChatModel(config, options.bedrockClient),
  };
}
