import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import OpenAI from 'openai';
import type { AppConfig, LlmProvider } from '../config/config';
import { BedrockChatModel } from './bedrock';
import type { ChatModel } from './chat-model';
import { MockChatModel } from './mock';
import { OpenAiChatModel } from './openai';
import { secretsManagerKey, staticKey, type ApiKeySource } from './openai-key';
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

/** The key of the OpenAI-compatible provider: OPENAI_API_KEY, or its Secrets Manager secret (fetched now). */
export function createApiKeySource(config: AppConfig, secretsClient: () => SecretsManagerClient): ApiKeySource {
  const { apiKey, apiKeySecretArn } = config.providers.openai;
  return apiKey !== undefined ? staticKey(apiKey) : secretsManagerKey(secretsClient(), apiKeySecretArn ?? '');
}

/** The one Secrets Manager client of a cold start, made only when the key lives there. */
export function createSecretsClient(config: AppConfig): SecretsManagerClient {
  return new SecretsManagerClient({ region: config.region });
}

/** The one OpenAI SDK client of a cold start: explicit settings only, never the SDK's own env reading. */
export function createOpenAiClient(config: AppConfig, key: ApiKeySource): OpenAI {
  const { baseUrl, maxAttempts } = config.providers.openai;
  return new OpenAI({
    baseURL: baseUrl,
    apiKey: () => key.get(),
    organization: null,
    project: null,
    maxRetries: maxAttempts - 1,
    // The SDK would log unparsable events (user text) to the console; failures reach our log as errors.
    logLevel: 'off',
  });
}

export interface ModelClients {
  readonly bedrock: () => BedrockRuntimeClient;
  readonly openai: () => { readonly client: OpenAI; readonly key: ApiKeySource };
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
    openai: () => {
      const { client, key } = clients.openai();
      return new OpenAiChatModel(client, key, config.providers.openai.maxTokensField);
    },
  };
  const needed = new Set<LlmProvider>([config.llmProvider, ...Object.values(config.providers.byModel)]);
  const providers = Object.fromEntries([...needed].map((name) => [name, make[name]()]));
  return withFallback(withTimeouts(routeByModel(providers, config.providers.byModel, config.llmProvider), config.model), config.model.fallbacks);
}

export type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';
