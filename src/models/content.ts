import type { ChatMessage, ContentBlock, ToolResultBlock } from './protocol';
import { characterCount } from './text';

/** A message's content as blocks: a plain string is one text block. */
export function blocksOf(content: ChatMessage['content']): readonly ContentBlock[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** The text of a tool result, its text blocks joined. */
export function resultText(block: ToolResultBlock): string {
  return typeof block.content === 'string' ? block.content : block.content.map((part) => part.text).join('');
}

/** The text a person wrote in a message (its text blocks; tool calls and results left out). */
export function textOf(content: ChatMessage['content']): string {
  return blocksOf(content)
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n');
}

/**
 * The text of each block as a model reads it — text, a call's input as JSON, a result — for the
 * character limits and the token estimate: the limits count everything the model is sent.
 */
export function blockTexts(content: ChatMessage['content']): string[] {
  return blocksOf(content).map((block) => {
    switch (block.type) {
      case 'text':
        return block.text;
      case 'tool_use':
        return `${block.name}${JSON.stringify(block.input)}`;
      case 'tool_result':
        return resultText(block);
    }
  });
}

/** A message's length in characters (code points), every block counted. */
export function contentChars(content: ChatMessage['content']): number {
  return blockTexts(content).reduce((sum, text) => sum + characterCount(text), 0);
}
