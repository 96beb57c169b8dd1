import { blocksOf, type ModelMessage } from '../models/content';

/** The first words of a text document, for the mock to quote. */
function firstWords(bytes: Uint8Array, count = 8): string {
  return Buffer.from(bytes.subarray(0, 2000)).toString('utf8').split(/\s+/).filter(Boolean).slice(0, count).join(' ');
}

/**
 * What the mock says it received when the last user turn carries attachments — kind, media type,
 * size, and for a text document its first words — or undefined when it carries none: so the
 * whole upload → reference → answer flow is testable without a real model.
 */
export function describeAttachments(last: ModelMessage | undefined): string | undefined {
  if (last === undefined) return undefined;
  const parts = blocksOf(last.content).flatMap((block) => {
    if (block.type === 'image') return [`an image (${block.mediaType}, ${block.bytes.length} bytes)`];
    if (block.type !== 'document') return [];
    const start = block.mediaType.startsWith('text/') ? ` beginning "${firstWords(block.bytes)}"` : '';
    return [`a document "${block.name}" (${block.mediaType}, ${block.bytes.length} bytes)${start}`];
  });
  return parts.length === 0 ? undefined : `I received ${parts.join(', ')}. `;
}
