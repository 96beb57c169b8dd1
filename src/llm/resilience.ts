import { GatewayError } from '../models/errors';
import { linkedController } from '../utils/abort';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';

/** A wrapper keeps the start-up check of the model it wraps. */
function preflightOf(model: ChatModel): Pick<ChatModel, 'preflight'> {
  return model.preflight ? { preflight: () => model.preflight?.() ?? Promise.resolve(undefined) } : {};
}

export interface TimeoutOptions {
  readonly firstTokenTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/**
 * Bounds how long a model may stay silent: until its first text token (connecting included),
 * and between two tokens. Past either, the call is aborted — so the provider stops generating
 * and billing — and the stream fails with `upstream_timeout`.
 */
export function withTimeouts(model: ChatModel, options: TimeoutOptions): ChatModel {
  return {
    ...preflightOf(model),
    async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
      const { controller, release } = linkedController(signal);
      let timer: NodeJS.Timeout | undefined;
      const arm = (ms: number, what: string): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          controller.abort(
            new GatewayError('upstream_timeout', `The model sent no ${what} within ${ms} ms.`, { retryable: true }),
          );
        }, ms);
      };
      arm(options.firstTokenTimeoutMs, 'first token');
      try {
        for await (const event of model.stream(request, controller.signal)) {
          controller.signal.throwIfAborted();
          // A tool call's input is output too: the model is not silent while it writes one.
          if (event.type !== 'end') arm(options.idleTimeoutMs, 'token');
          yield event;
        }
        controller.signal.throwIfAborted();
      } catch (error) {
        // The inner model may surface an abort as its own error; the abort reason says why.
        throw controller.signal.aborted ? controller.signal.reason : error;
      } finally {
        clearTimeout(timer);
        release();
      }
    },
  };
}

const FALLBACK_CODES = new Set(['upstream_throttled', 'upstream_error', 'upstream_timeout']);

function shouldFallBack(error: unknown): boolean {
  return error instanceof GatewayError && FALLBACK_CODES.has(error.code) && error.retryable;
}

/**
 * Uses a configured fallback model when the first fails *before any output was produced* (text or a tool call)
 * (throttled, unavailable, timed out). Never after: the client has already seen the first
 * model's words, and a second voice would continue a different answer.
 */
export function withFallback(model: ChatModel, fallbacks: Readonly<Record<string, string>>): ChatModel {
  return {
    ...preflightOf(model),
    async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
      const fallback = fallbacks[request.modelId];
      let produced = false;
      try {
        for await (const event of model.stream(request, signal)) {
          if (event.type !== 'end') produced = true; // text or a tool call: the client has seen it
          yield event;
        }
      } catch (error) {
        if (fallback === undefined || produced || signal.aborted || !shouldFallBack(error)) throw error;
        yield* model.stream({ ...request, modelId: fallback }, signal);
      }
    },
  };
}
