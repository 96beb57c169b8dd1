import type { DepsParts } from '../deps';
import { createBedrockClient, createChatModel } from '../llm';
import type * as OpenAiProvider from '../llm/openai-provider';
import { unused } from './unused';

/** The worker's parts: the model (Bedrock, OpenAI-compatible, the mock); no queue (it never sends to one). */
export const WORKER_PARTS: DepsParts = {
  queue: () => unused.queue,
  model: (config, options) =>
    createChatModel(config, {
      bedrock: () => options.bedrockClient ?? createBedrockClient(config),
      openai: () => Promise.resolve().then(() => {
        // Required here, only when a model is served by it, so the bundler wraps the module and its
        // OpenAI SDK to be evaluated on demand: a worker without such a model never evaluates them.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const provider = require('../llm/openai-provider') as typeof OpenAiProvider;
        return provider.createOpenAiModel(config, options.secretsClient);
      }),
    }),
};
