import type { ModelMessage } from '../models/content';
import type { InferenceConfig, Tool, ToolChoice } from '../models/protocol';
import type { Usage } from '../models/server-frames';

/** What the gateway asks of a model: provider-neutral, already validated. */
export interface ChatModelRequest {
  readonly modelId: string;
  /** The conversation, attachments resolved to their bytes by the worker. */
  readonly messages: readonly ModelMessage[];
  readonly systemPrompt?: string;
  readonly inferenceConfig: InferenceConfig;
  /** Functions the model may call; absent: none. */
  readonly tools?: readonly Tool[];
  readonly toolChoice?: ToolChoice;
}

/**
 * One event of a model's answer, in order: text deltas and tool-call deltas, then exactly one
 * `end`. A call's deltas each carry its id and name (providers key later deltas by index and
 * fill them in); its first may have an empty `inputDelta`, announcing the call.
 */
export type ChatModelEvent =
  | { readonly type: 'delta'; readonly text: string }
  | { readonly type: 'tool_delta'; readonly toolUseId: string; readonly name: string; readonly inputDelta: string }
  | {
      readonly type: 'end';
      readonly stopReason: string;
      readonly usage: Usage;
      /** The model that answered (a fallback may stand in for the one asked). */
      readonly modelId: string;
      /** The provider's own latency figure, when it reports one. */
      readonly latencyMs?: number;
    };

/**
 * A streaming chat model. Implementations stop promptly when `signal` aborts and throw a
 * GatewayError (upstream_* codes) for provider failures; they never end an aborted stream
 * with an `end` event.
 */
export interface ChatModel {
  stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent>;
  /**
   * A start-up check, for banners and health output: why this model cannot answer at all
   * (e.g. no credentials), or undefined when nothing is known to be wrong.
   */
  preflight?(): Promise<string | undefined>;
}
