import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import OpenAI from 'openai';
import type { AppConfig } from '../config/config';
import { OpenAiChatModel } from './openai';
import { secretsManagerKey, staticKey, type ApiKeySource } from './openai-key';

/** The key of the OpenAI-compatible provider: OPENAI_API_KEY, or its Secrets Manager secret (fetched now). */
export function createApiKeySource(config: AppConfig, secretsClient: () => SecretsManagerClient): ApiKeySource {
  const { apiKey, apiKeySecretArn } = config.providers.openai;
  return apiKey !== undefined ? staticKey(apiKey) : secretsManagerKey(secretsClient(), apiKeySecretArn ?? '');
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

/**
 * The openai provider with its clients, made once per cold start. This module is imported
 * lazily (src/llm/index.ts): a worker that serves no OpenAI-compatible model never evaluates
 * the OpenAI SDK or the Secrets Manager client.
 */
export function createOpenAiModel(config: AppConfig, secretsClient?: SecretsManagerClient): OpenAiChatModel {
  const key = createApiKeySource(config, () => secretsClient ?? new SecretsManagerClient({ region: config.region }));
  return new OpenAiChatModel(createOpenAiClient(config, key), key, config.providers.openai.maxTokensField);
}
