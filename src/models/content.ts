import type { ChatMessage, ContentBlock, ToolResultBlock, ToolUseBlock, TextBlock } from './protocol';
import { characterCount } from './text';

/** An image as a model reads it: its bytes, read from S3 (or decoded from inline base64) by the worker. */
export interface ResolvedImage {
  readonly type: 'image';
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** A document as a model reads it. */
export interface ResolvedDocument {
  readonly type: 'document';
  readonly mediaType: string;
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** A block of a message as the model layer gets it: attachments resolved to their bytes. */
export type ModelBlock = TextBlock | ToolUseBlock | ToolResultBlock | ResolvedImage | ResolvedDocument;

export interface ModelMessage {
  readonly role: ChatMessage['role'];
  readonly content: string | readonly ModelBlock[];
}

/** Content as the client sent it, or as the model gets it. */
type AnyContent = ChatMessage['content'] | ModelMessage['content'];
type AnyBlock = ContentBlock | ModelBlock;

/**
 * What an attachment counts as in the token estimate for limits, before the provider reports
 * the real usage: an image at most ~1,600 tokens (Bedrock and Anthropic scale larger ones down to
 * about 1.15 megapixels, width × height / 750), a document a flat 5,000.
 */
export const ATTACHMENT_TOKENS = { image: 1600, document: 5000 } as const;

/** A message's content as blocks: a plain string is one text block. */
export function blocksOf<C extends AnyContent>(content: C): C extends string ? readonly TextBlock[] : Exclude<C, string> {
  return (typeof content === 'string' ? [{ type: 'text', text: content }] : content) as C extends string ? readonly TextBlock[] : Exclude<C, string>;
}

/** The text of a tool result, its text blocks joined. */
export function resultText(block: ToolResultBlock): string {
  return typeof block.content === 'string' ? block.content : block.content.map((part) => part.text).join('');
}

/** The text a person wrote in a message (its text blocks; calls, results and attachments left out). */
export function textOf(content: AnyContent): string {
  return (blocksOf(content) as readonly AnyBlock[])
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n');
}

/**
 * The text of each block as a model reads it — text, a call's input as JSON, a result; nothing
 * for an attachment (see ATTACHMENT_TOKENS) — for the character limits and the token estimate.
 */
export function blockTexts(content: AnyContent): string[] {
  return (blocksOf(content) as readonly AnyBlock[]).map((block) => {
    switch (block.type) {
      case 'text':
        return block.text;
      case 'tool_use':
        return `${block.name}${JSON.stringify(block.input)}`;
      case 'tool_result':
        return resultText(block);
      default:
        return '';
    }
  });
}

/** A message's length in characters (code points), every text-bearing block counted. */
export function contentChars(content: AnyContent): number {
  return blockTexts(content).reduce((sum, text) => sum + characterCount(text), 0);
}
