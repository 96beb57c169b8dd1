import type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';

/**
 * A model whose code is loaded on its own: `load` starts at once (the cold start), and the
 * first request waits for it if it has not finished. A bundle that holds the module but never
 * calls this pays only for parsing it, not for evaluating it.
 */
export function lazyModel(load: () => Promise<ChatModel>): ChatModel {
  const model = load();
  // A failed load is reported by the first request (and preflight), not as an unhandled rejection.
  model.catch(() => undefined);
  return {
    preflight: async () => {
      const loaded = await model.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      return loaded instanceof Error ? `The model provider could not be loaded: ${loaded.message}` : loaded.preflight?.();
    },
    async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
      yield* (await model).stream(request, signal);
    },
  };
}
