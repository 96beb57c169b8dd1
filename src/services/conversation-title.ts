import type { ChatMessage } from '../models/protocol';

/** How long a title taken from a message is, at most (code points). */
export const AUTO_TITLE_CHARS = 80;

/**
 * The title a conversation made without one takes from a user message: its text's first
 * AUTO_TITLE_CHARS code points, whitespace folded, cut at a word where one ends in the second half
 * (so "How do I…" does not end mid-word), with an ellipsis when cut. No model call: a title is
 * the user's own words. Undefined when the message has no text (an image alone, tool results).
 */
export function titleOf(message: ChatMessage | undefined): string | undefined {
  if (message === undefined) return undefined;
  const text = typeof message.content === 'string' ? message.content : message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join(' ');
  const folded = text.replace(/\s+/g, ' ').trim();
  if (folded === '') return undefined;
  const chars = [...folded];
  if (chars.length <= AUTO_TITLE_CHARS) return folded;
  const head = chars.slice(0, AUTO_TITLE_CHARS).join('');
  const space = head.lastIndexOf(' ');
  return `${space >= head.length / 2 ? head.slice(0, space) : head}…`;
}
