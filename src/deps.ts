import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { AppDeps } from './app';
import type { AppConfig } from './config/config';
import { createChatModel } from './llm';
import { MemoryConnectionStore } from './stores/memory-connection-store';
import { MemoryRequestStore } from './stores/memory-request-store';
import { createLogger } from './utils/logger';
import { createManagementClient, ManagementApiSender, type ManagementClientOptions } from './utils/websocket';

export interface DepsOptions {
  /** Static credentials for the management client (the local emulator's fake ones). */
  readonly managementCredentials?: ManagementClientOptions['credentials'];
  /** A Bedrock client made elsewhere (tests point one at the Bedrock emulator). */
  readonly bedrockClient?: BedrockRuntimeClient;
}

/**
 * Creates the clients and stores of one cold start from config. Every AWS SDK client is made
 * here, once, and handed to the app; nothing below this file constructs a client.
 */
export function createDeps(config: AppConfig, options: DepsOptions = {}): AppDeps {
  const managementClient = createManagementClient({
    endpoint: config.managementEndpoint,
    region: config.region,
    maxAttempts: config.postMaxAttempts,
    ...(options.managementCredentials ? { credentials: options.managementCredentials } : {}),
  });
  return {
    config,
    logger: createLogger(config.logLevel),
    sender: new ManagementApiSender(managementClient),
    connections: new MemoryConnectionStore(),
    requests: new MemoryRequestStore(),
    model: createChatModel(config, options.bedrockClient),
  };
}
