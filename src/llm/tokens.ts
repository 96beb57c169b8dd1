import { ATTACHMENT_TOKENS, attachmentCount, blockTexts, type ModelMessage } from '../models/content';
import type { ChatMessage, Tool } from '../models/protocol';

/** A request as the limits see it: the client's (attachments by id) or the model's (by bytes). */
interface Prompt {
  readonly messages: ReadonlyArray<ChatMessage | ModelMessage>;
  readonly systemPrompt?: string;
  readonly tools?: readonly Tool[];
}

/**
 * A rough token count (about four characters per token, at least one): used for usage when a
 * provider reports none, by the mock model, and to reserve a token budget before a call.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * The estimated input tokens of a request: every message (each block: text, a call's input, a
 * result; an attachment as ATTACHMENT_TOKENS), the system prompt, and the tool definitions (the model reads them as part of the prompt).
 */
export function estimatePromptTokens(request: Prompt): number {
  const attachments = (content: ChatMessage['content'] | ModelMessage['content']): number => {
    const { image, document } = attachmentCount(content);
    return image * ATTACHMENT_TOKENS.image + document * ATTACHMENT_TOKENS.document;
  };
  return (
    request.messages.reduce((sum, message) => sum + estimateTokens(blockTexts(message.content).join('')) + attachments(message.content), 0) +
    (request.systemPrompt ? estimateTokens(request.systemPrompt) : 0) +
    (request.tools?.length ? estimateTokens(JSON.stringify(request.tools)) : 0)
  );
}
