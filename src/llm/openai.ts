import { APIConnectionError, type OpenAI } from 'openai';
import type { AppConfig } from '../config/config';
import { GatewayError } from '../models/errors';
import type { Usage } from '../models/server-frames';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';
import type { ApiKeySource } from './openai-key';
import { mapOpenAiError } from './openai-errors';
import { estimatePromptTokens, estimateTokens } from './tokens';
import { toChatCompletionsRequest } from './openai-request';
import { LIMITS } from '../models/limits';

const TOOL_ID = new RegExp(LIMITS.toolNamePattern);

/**
 * A call's id as clients may send it back: servers' ids (`call_…`, `chatcmpl-tool-…`) usually
 * fit the protocol's pattern; one that does not, or none, is replaced — safely, since the whole
 * history goes back to the server with each request.
 */
function toolCallId(id: string | undefined, fallback: string): string {
  if (id !== undefined && TOOL_ID.test(id)) return id;
  const cleaned = (id ?? '').replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? fallback : cleaned;
}

type MaxTokensField = AppConfig['providers']['openai']['maxTokensField'];


/**
 * `finish_reason` in the names `done.stopReason` uses for every provider (Bedrock's). Chat
 * Completions reports a stop sequence as plain `stop`, so it reads as `end_turn` here.
 */
const STOP_REASONS: Readonly<Record<string, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  content_filter: 'content_filtered',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
};

interface ReportedUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly total_tokens?: number;
}

function usageOf(reported: ReportedUsage | undefined, request: ChatModelRequest, text: string): Usage {
  if (reported?.prompt_tokens !== undefined && reported.completion_tokens !== undefined) {
    const { prompt_tokens: inputTokens, completion_tokens: outputTokens } = reported;
    return { inputTokens, outputTokens, totalTokens: reported.total_tokens ?? inputTokens + outputTokens };
  }
  const inputTokens = estimatePromptTokens(request);
  const outputTokens = estimateTokens(text);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
}

/**
 * Any OpenAI-compatible server through the Chat Completions streaming API, with the official
 * SDK (its `baseURL` reaches OpenAI, Azure OpenAI's v1 API, vLLM, Ollama, LM Studio, Groq…).
 * The client is created once per cold start and injected. An abort (cancel, a gone client, a
 * timeout) is passed to the SDK's fetch, which closes the connection, so the server stops
 * generating; the SDK then ends the iterator silently, so the signal is checked after the loop.
 */
export class OpenAiChatModel implements ChatModel {
  constructor(
    private readonly client: OpenAI,
    private readonly key: ApiKeySource,
    private readonly maxTokensField: MaxTokensField,
  ) {}

  /**
   * Resolves the key once (from Secrets Manager in AWS), then asks the server for its model list
   * (`GET /models`, 3 s, no retry) to learn early that it is down or refuses the key. A server
   * without that endpoint (404) is not a problem: it may still serve Chat Completions.
   */
  async preflight(): Promise<string | undefined> {
    try {
      await this.key.get();
      await this.client.models.list({ timeout: 3000, maxRetries: 0 });
      return undefined;
    } catch (error) {
      if (error instanceof APIConnectionError) return 'Cannot reach the OpenAI-compatible server at OPENAI_BASE_URL: is it running, and is the URL right?';
      const mapped = mapOpenAiError(error, 'any', this.key.known());
      return mapped.code === 'model_not_allowed' ? undefined : mapped.message;
    }
  }

  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    let finishReason: string | undefined;
    let reported: ReportedUsage | undefined;
    let text = '';
    // Streamed calls are keyed by `index`: only a call's first delta carries its id and name.
    const calls = new Map<number, { toolUseId: string; name: string }>();
    try {
      const stream = await this.client.chat.completions.create(toChatCompletionsRequest(request, this.maxTokensField), { signal });
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        const delta = choice?.delta?.content;
        if (typeof delta === 'string' && delta !== '') {
          text += delta;
          yield { type: 'delta', text: delta };
        }
        for (const part of choice?.delta?.tool_calls ?? []) {
          let call = calls.get(part.index);
          if (call === undefined) {
            const name = part.function?.name;
            if (!name) throw new GatewayError('upstream_error', `The model "${request.modelId}" streamed a tool call without its name.`, { retryable: true });
            call = { toolUseId: toolCallId(part.id, `call_${chunk.id.replace(/[^a-zA-Z0-9_-]/g, '').slice(0, 40)}_${part.index}`), name };
            calls.set(part.index, call);
            yield { type: 'tool_delta', ...call, inputDelta: '' };
          }
          const input = part.function?.arguments ?? '';
          text += input;
          if (input !== '') yield { type: 'tool_delta', ...call, inputDelta: input };
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage) reported = chunk.usage;
      }
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw mapOpenAiError(error, request.modelId, this.key.known());
    }
    signal.throwIfAborted();
    if (finishReason === undefined) {
      // The connection ended cleanly but the answer did not: no finish_reason, no [DONE].
      throw new GatewayError('upstream_error', `The model "${request.modelId}" ended its answer without a finish reason.`, { retryable: true });
    }
    yield { type: 'end', stopReason: STOP_REASONS[finishReason] ?? finishReason, usage: usageOf(reported, request, text), modelId: request.modelId };
  }
}
