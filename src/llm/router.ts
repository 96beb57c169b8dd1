import type { LlmProvider } from '../config/config';
import { GatewayError } from '../models/errors';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';

/**
 * One model in front of several providers: each request goes to the provider its model id is
 * routed to (MODEL_PROVIDERS, else LLM_PROVIDER). Timeouts and fallbacks wrap this router, so a
 * fallback may cross providers (Bedrock → an OpenAI-compatible server, and back).
 */
export function routeByModel(
  providers: Partial<Record<LlmProvider, ChatModel>>,
  byModel: Readonly<Record<string, LlmProvider>>,
  otherwise: LlmProvider,
): ChatModel {
  const used = Object.entries(providers).filter((entry): entry is [LlmProvider, ChatModel] => entry[1] !== undefined);
  return {
    async preflight(): Promise<string | undefined> {
      const problems = await Promise.all(used.map(async ([name, model]) => {
        const problem = await model.preflight?.();
        return problem === undefined ? undefined : used.length > 1 ? `${name}: ${problem}` : problem;
      }));
      const found = problems.filter((p): p is string => p !== undefined);
      return found.length > 0 ? found.join(' ') : undefined;
    },
    stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
      const name = byModel[request.modelId] ?? otherwise;
      const model = providers[name];
      // Config validation makes every routed provider; this guards a programming error only.
      if (model === undefined) throw new GatewayError('internal_error', `No provider "${name}" is set up for the model "${request.modelId}".`);
      return model.stream(request, signal);
    },
  };
}
