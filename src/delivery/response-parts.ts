import type { ResponseFrame, ToolUse } from '../models/server-frames';
import { splitToFit } from './frame-split';
import { fitToolUses, MAX_TERMINAL_BYTES } from './terminal-fit';

/** What the last `response` part carries beside its text and tool calls. */
export type ResponseEnd = Pick<ResponseFrame, 'requestId' | 'modelId' | 'stopReason' | 'usage' | 'metadata'>;

/** A part number no answer reaches: a part is sized with it, so its real number never makes it bigger. */
const ANY_PART = 999_999;

/**
 * A complete `llm/chat` answer as `response` frames, each within API Gateway's message limit
 * whatever the model wrote: the text in parts, in order; then, for each tool call whose input
 * does not fit in the last part beside the others, its input JSON in parts of its own
 * (`toolUseId`, `name`, `inputDelta`, empty `content`); then the last part, with the rest of
 * the text, `toolUses` (those calls marked `inputOmitted`) and the answer's end.
 */
export function responseParts(content: string, toolUses: readonly ToolUse[], end: ResponseEnd, maxBytes = MAX_TERMINAL_BYTES): ResponseFrame[] {
  const { requestId } = end;
  const last = (piece: string, listed: ResponseFrame['toolUses'], part = ANY_PART, parts = ANY_PART): ResponseFrame => ({
    type: 'response',
    requestId,
    part,
    parts,
    content: piece,
    modelId: end.modelId,
    stopReason: end.stopReason,
    usage: end.usage,
    ...(listed !== undefined && listed.length > 0 ? { toolUses: listed } : {}),
    ...(end.metadata ? { metadata: end.metadata } : {}),
  });
  const fitted = fitToolUses(toolUses, (listed) => last('', listed), maxBytes);
  const textPart = (piece: string): ResponseFrame => ({ type: 'response', requestId, part: ANY_PART, parts: ANY_PART, content: piece });
  const texts = splitToFit(content, maxBytes, textPart);
  // The text's last piece goes in the last part, split again if it does not fit beside the calls.
  const tail = splitToFit(texts.pop() ?? '', maxBytes, (piece) => last(piece, fitted.toolUses));
  const ending = tail.pop() ?? '';
  const bodies: Array<Omit<ResponseFrame, 'type' | 'requestId' | 'part' | 'parts'>> = [...texts, ...tail].map((piece) => ({ content: piece }));
  for (const use of fitted.omitted) {
    const toolPart = (piece: string): ResponseFrame => ({ ...textPart(''), toolUseId: use.toolUseId, name: use.name, inputDelta: piece });
    for (const piece of splitToFit(JSON.stringify(use.input), maxBytes, toolPart)) {
      bodies.push({ content: '', toolUseId: use.toolUseId, name: use.name, inputDelta: piece });
    }
  }
  const parts = bodies.length + 1;
  const numbered = bodies.map((body, part): ResponseFrame => ({ type: 'response', requestId, part, parts, ...body }));
  return [...numbered, last(ending, fitted.toolUses, parts - 1, parts)];
}
