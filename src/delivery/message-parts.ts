import type { MessageView, ViewBlock } from '../models/server-frames';
import { splitToFit } from './frame-split';

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** A block as pieces each of whose frame (`frameOf([piece])`) fits `maxBytes`: text in texts, a large tool input in `tool_input` pieces. */
function piecesOf(block: ViewBlock, fits: (blocks: ViewBlock[]) => boolean, maxBytes: number, frameOf: (blocks: ViewBlock[]) => unknown): ViewBlock[] {
  if (fits([block])) return [block];
  if (block.type === 'text') return splitToFit(block.text, maxBytes, (text) => frameOf([{ type: 'text', text }])).map((text) => ({ type: 'text', text }));
  if (block.type === 'tool_use') {
    const pieces = splitToFit(JSON.stringify(block.input), maxBytes, (inputDelta) => frameOf([{ type: 'tool_input', toolUseId: block.toolUseId, inputDelta }]));
    return [{ ...block, input: {}, inputOmitted: true }, ...pieces.map((inputDelta): ViewBlock => ({ type: 'tool_input', toolUseId: block.toolUseId, inputDelta }))];
  }
  if (block.type === 'tool_result') {
    // A result's text is bounded by the frame it came in; a string one splits as text would.
    const text = typeof block.content === 'string' ? block.content : block.content.map((part) => part.text).join('');
    return splitToFit(text, maxBytes, (piece) => frameOf([{ ...block, content: piece }])).map((piece) => ({ ...block, content: piece }));
  }
  return [block];
}

/**
 * A message as the contents of the frames that carry it, each within `maxBytes` as `frameOf`
 * builds it around a piece of the content: one piece when it fits, else its blocks packed in
 * order — a text too long split into consecutive texts, a tool input too long into `tool_input`
 * pieces after its call (which says `inputOmitted`) — so that joined in order they are the message.
 */
export function messageParts(message: MessageView, maxBytes: number, frameOf: (content: MessageView['content']) => unknown): Array<MessageView['content']> {
  if (bytesOf(frameOf(message.content)) <= maxBytes) return [message.content];
  const fits = (blocks: ViewBlock[]): boolean => bytesOf(frameOf(blocks)) <= maxBytes;
  const blocks: ViewBlock[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
  const parts: ViewBlock[][] = [[]];
  for (const piece of blocks.flatMap((block) => piecesOf(block, fits, maxBytes, frameOf))) {
    const current = parts[parts.length - 1]!;
    if (current.length > 0 && !fits([...current, piece])) parts.push([piece]);
    else current.push(piece);
  }
  return parts;
}
