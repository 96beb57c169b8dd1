import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { AppConfig } from '../config/config';
import { BedrockChatModel } from './bedrock';
import type { ChatModel } from './chat-model';
import { MockChatModel } from './mock';
import { withFallback, withTimeouts } from './resilience';

/** The one Bedrock runtime client of a cold start (HTTP/2, SDK retries with backoff). */
export function createBedrockClient(config: AppConfig): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: config.region,
    maxAttempts: config.bedrock.maxAttempts,
    ...(config.bedrock.endpoint ? { endpoint: config.bedrock.endpoint } : {}),
  });
}

/**
 * The configured model provider, with the same timeouts and fallbacks whatever the provider:
 * a timeout of the first model can still hand over to its fallback.
 */
export function createChatModel(config: AppConfig, bedrockClient: () => BedrockRuntimeClient): ChatModel {
  const provider = config.llmProvider === 'mock' ? new MockChatModel(config.mock) : new BedrockChatModel(bedrockClient());
  return withFallback(withTimeouts(provider, config.model), config.model.fallbacks);
}

export type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';
