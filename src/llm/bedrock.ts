import { ConverseStreamCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { GatewayError } from '../models/errors';
import type { Usage } from '../models/server-frames';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';
import { mapBedrockError } from './bedrock-errors';
import { estimatePromptTokens, estimateTokens } from './tokens';
import { toConverseInput } from './bedrock-request';

function usageOf(reported: { inputTokens?: number; outputTokens?: number; totalTokens?: number } | undefined, request: ChatModelRequest, text: string): Usage {
  if (reported?.inputTokens !== undefined && reported.outputTokens !== undefined) {
    return {
      inputTokens: reported.inputTokens,
      outputTokens: reported.outputTokens,
      totalTokens: reported.totalTokens ?? reported.inputTokens + reported.outputTokens,
    };
  }
  // Bedrock always sends usage in the metadata event; this estimate only covers its absence.
  const inputTokens = estimatePromptTokens(request);
  const outputTokens = estimateTokens(text);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
}

/**
 * Amazon Bedrock through ConverseStream. The client is created once per cold start and
 * injected. An abort (cancel, a gone client, a timeout) is passed to the SDK, which stops the
 * HTTP/2 stream and so the generation; the SDK then ends the iterator silently, so the signal
 * is checked after the loop and an aborted stream is never reported as complete.
 */
export class BedrockChatModel implements ChatModel {
  constructor(private readonly client: BedrockRuntimeClient) {}

  /** Resolves the client's credentials once, as its first call would. */
  async preflight(): Promise<string | undefined> {
    try {
      await this.client.config.credentials();
      return undefined;
    } catch (error) {
      return mapBedrockError(error, 'any').message;
    }
  }

  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    let stopReason: string | undefined;
    let reported: { inputTokens?: number; outputTokens?: number; totalTokens?: number } | undefined;
    let latencyMs: number | undefined;
    let text = '';
    // A call's later deltas name only their content block: its id and name come from its start.
    const calls = new Map<number, { toolUseId: string; name: string }>();
    try {
      const response = await this.client.send(new ConverseStreamCommand(toConverseInput(request)), { abortSignal: signal });
      for await (const event of response.stream ?? []) {
        const delta = event.contentBlockDelta?.delta;
        const started = event.contentBlockStart?.start?.toolUse;
        if (started?.toolUseId !== undefined && started.name !== undefined) {
          const call = { toolUseId: started.toolUseId, name: started.name };
          calls.set(event.contentBlockStart?.contentBlockIndex ?? calls.size, call);
          yield { type: 'tool_delta', ...call, inputDelta: '' };
        } else if (delta?.toolUse !== undefined) {
          const call = calls.get(event.contentBlockDelta?.contentBlockIndex ?? -1);
          if (call === undefined) throw new GatewayError('upstream_error', `The model "${request.modelId}" sent a tool call's input before its start.`, { retryable: true });
          const input = delta.toolUse.input ?? '';
          text += input;
          if (input !== '') yield { type: 'tool_delta', ...call, inputDelta: input };
        } else if (delta?.text !== undefined && delta.text !== '') {
          text += delta.text;
          yield { type: 'delta', text: delta.text };
        } else if (event.messageStop) {
          stopReason = event.messageStop.stopReason;
        } else if (event.metadata) {
          reported = event.metadata.usage;
          latencyMs = event.metadata.metrics?.latencyMs;
        }
      }
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw mapBedrockError(error, request.modelId);
    }
    signal.throwIfAborted();
    if (stopReason === undefined) {
      throw new GatewayError('upstream_error', `The model "${request.modelId}" ended its answer without a stop reason.`, {
        retryable: true,
      });
    }
    yield {
      type: 'end',
      stopReason,
      usage: usageOf(reported, request, text),
      modelId: request.modelId,
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    };
  }
}
