import type { DepsParts } from '../deps';
import { createBedrockClient, createChatModel } from '../llm';
import { unused } from './unused';

/** The worker's parts: the model (Bedrock, or the mock); no queue (it never sends to one). */
export const WORKER_PARTS: DepsParts = {
  queue: () => unused.queue,
  model: (config, options) => createChatModel(config, () => options.bedrockClient ?? createBedrockClient(config)),
};
