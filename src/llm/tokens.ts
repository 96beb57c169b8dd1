import type { ChatModelRequest } from './chat-model';

/**
 * A rough token count (about four characters per token, at least one): used for usage when a
 * provider reports none, by the mock model, and to reserve a token budget before a call.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The estimated input tokens of a request: every message plus the system prompt. */
export function estimatePromptTokens(request: ChatModelRequest): number {
  return (
    request.messages.reduce((sum, message) => sum + estimateTokens(message.content), 0) +
    (request.systemPrompt ? estimateTokens(request.systemPrompt) : 0)
  );
}
