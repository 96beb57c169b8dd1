import { ATTACHMENT_TOKENS, blockTexts, type ModelBlock, type ModelMessage } from '../models/content';
import type { ChatMessage, ContentBlock, Tool } from '../models/protocol';

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

/** Text documents: the model reads their text, so their size tells their tokens (a UTF-8 byte is at most a character). */
const TEXT_DOCUMENT = /^text\//;

/**
 * What one attachment counts as: a document whose bytes the worker has read and whose type is
 * text, a token per four bytes (never less than the flat estimate); any other attachment, or one
 * known only by its id, the flat ATTACHMENT_TOKENS of its kind.
 */
function attachmentTokens(block: AnyAttachment): number {
  if (block.type === 'image') return ATTACHMENT_TOKENS.image;
  if ('bytes' in block && TEXT_DOCUMENT.test(block.mediaType)) return Math.max(ATTACHMENT_TOKENS.document, Math.ceil(block.bytes.length / 4));
  return ATTACHMENT_TOKENS.document;
}

type AnyAttachment = Extract<ContentBlock | ModelBlock, { type: 'image' | 'document' }>;

/**
 * The estimated input tokens of a request: every message (each block: text, a call's input, a
 * result; an attachment as above), the system prompt, and the tool definitions (the model reads them as part of the prompt).
 */
export function estimatePromptTokens(request: Prompt): number {
  const attachments = (content: ChatMessage['content'] | ModelMessage['content']): number =>
    typeof content === 'string'
      ? 0
      : (content as ReadonlyArray<ContentBlock | ModelBlock>).reduce((sum, block) => sum + (block.type === 'image' || block.type === 'document' ? attachmentTokens(block) : 0), 0);
  return (
    request.messages.reduce((sum, message) => sum + estimateTokens(blockTexts(message.content).join('')) + attachments(message.content), 0) +
    (request.systemPrompt ? estimateTokens(request.systemPrompt) : 0) +
    (request.tools?.length ? estimateTokens(JSON.stringify(request.tools)) : 0)
  );
}
