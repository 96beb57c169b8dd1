import type { DepsParts } from '../deps';
import { createApiKeySource, createBedrockClient, createChatModel, createOpenAiClient, createSecretsClient } from '../llm';
import { unused } from './unused';

/** The worker's parts: the model (Bedrock, OpenAI-compatible, the mock); no queue (it never sends to one). */
export const WORKER_PARTS: DepsParts = {
  queue: () => unused.queue,
  model: (config, options) =>
    createChatModel(config, {
      bedrock: () => options.bedrockClient ?? createBedrockClient(config),
      openai: () => {
        const key = createApiKeySource(config, () => options.secretsClient ?? createSecretsClient(config));
        return { client: createOpenAiClient(config, key), key };
      },
    }),
};
