import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { AppConfig, LlmProvider } from '../config/config';
import { BedrockChatModel } from './bedrock';
import type { ChatModel } from './chat-model';
import { MockChatModel } from './mock';
import { lazyModel } from './lazy';
import { withFallback, withTimeouts } from './resilience';
import { routeByModel } from './router';

/** The one Bedrock runtime client of a cold start (HTTP/2, SDK retries with backoff). */
export function createBedrockClient(config: AppConfig): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: config.region,
    maxAttempts: config.bedrock.maxAttempts,
    ...(config.bedrock.endpoint ? { endpoint: config.bedrock.endpoint } : {}),
  });
}

export interface ModelClients {
  readonly bedrock: () => BedrockRuntimeClient;
  /** The openai provider, imported when needed (see openai-provider.ts). */
  readonly openai: () => Promise<ChatModel>;
}

/**
 * The configured providers behind one model, with the same timeouts and fallbacks whatever the
 * provider: a timeout of the first model can still hand over to its fallback, on any provider.
 * Only the providers some model is routed to are made (and so only their clients).
 */
export function createChatModel(config: AppConfig, clients: ModelClients): ChatModel {
  const make: Record<LlmProvider, () => ChatModel> = {
    mock: () => new MockChatModel(config.mock),
    bedrock: () => new BedrockChatModel(clients.bedrock()),
    openai: () => lazyModel(clients.openai),
  };
  const needed = new Set<LlmProvider>([config.llmProvider, ...Object.values(config.providers.byModel)]);
  const providers = Object.fromEntries([...needed].map((name) => [name, make[name]()]));
  return withFallback(withTimeouts(routeByModel(providers, config.providers.byModel, config.llmProvider), config.model), config.model.fallbacks);
}

export type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';
