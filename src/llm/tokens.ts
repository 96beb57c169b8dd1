import type { ChatModelRequest } from './chat-model';
import { blockTexts } from '../models/content';

/**
 * A rough token count (about four characters per token, at least one): used for usage when a
 * provider reports none, by the mock model, and to reserve a token budget before a call.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * The estimated input tokens of a request: every message (each block: text, a call's input, a
 * result), the system prompt, and the tool definitions (the model reads them as part of the prompt).
 */
export function estimatePromptTokens(request: ChatModelRequest): number {
  return (
    request.messages.reduce((sum, message) => sum + estimateTokens(blockTexts(message.content).join('')), 0) +
    (request.systemPrompt ? estimateTokens(request.systemPrompt) : 0) +
    (request.tools?.length ? estimateTokens(JSON.stringify(request.tools)) : 0)
  );
}
