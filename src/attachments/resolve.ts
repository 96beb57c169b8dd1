import type { ChatModelRequest } from '../llm/chat-model';
import { blocksOf, type ModelBlock, type ModelMessage } from '../models/content';
import { GatewayError } from '../models/errors';
import type { JobRequest } from '../models/job';
import type { ContentBlock } from '../models/protocol';
import { ATTACHMENTS_OFF, type AttachmentStore } from './attachment-store';
import { attachmentKey } from './keys';
import { bytesMatch, mediaTypeOf } from './media-types';

const invalid = (detail: string): GatewayError => new GatewayError('invalid_request', `Invalid request: ${detail}.`);

/**
 * The request as the model gets it: every attachment read (under its owner's prefix only) and
 * checked — it exists, its size is within its kind's limit, its kind fits the block, and its
 * bytes are what its media type says (magic numbers) — and every inline image decoded and
 * checked the same way. Runs in the worker, before the model call; a failure is one
 * `invalid_request` naming the block.
 */
export async function resolveRequest(request: JobRequest, owner: string, store: AttachmentStore | undefined): Promise<ChatModelRequest> {
  let documents = 0;
  const resolveBlock = async (block: ContentBlock, at: string): Promise<ModelBlock> => {
    if (block.type !== 'image' && block.type !== 'document') return block;
    let mediaType: string;
    let bytes: Uint8Array;
    if (block.type === 'image' && block.attachmentId === undefined) {
      mediaType = block.mediaType ?? '';
      bytes = Buffer.from(block.data ?? '', 'base64');
    } else {
      if (store === undefined) throw invalid(ATTACHMENTS_OFF.replace(/\.$/, ''));
      const id = block.attachmentId ?? '';
      const kind = mediaTypeOf(block.type === 'image' ? 'image/png' : 'application/pdf');
      const stored = await store.read(attachmentKey(owner, id), kind?.maxBytes ?? 0);
      // Another user's attachment and an unknown one read the same: nothing tells them apart.
      if (stored === undefined) throw invalid(`${at}.attachmentId: unknown attachment "${id}"`);
      if (stored === 'too_large') throw invalid(`${at}: the attachment is larger than ${block.type === 'image' ? 'an image' : 'a document'} may be`);
      ({ mediaType, bytes } = stored);
    }
    const type = mediaTypeOf(mediaType);
    if (type === undefined || type.kind !== block.type) throw invalid(`${at}: a ${block.type} block cannot carry ${mediaType || 'this type'}`);
    if (bytes.length > type.maxBytes) throw invalid(`${at}: the attachment is larger than ${type.maxBytes} bytes`);
    if (!bytesMatch(mediaType, bytes)) throw invalid(`${at}: its bytes are not a ${mediaType} file`);
    if (block.type === 'image') return { type: 'image', mediaType, bytes };
    documents += 1;
    return { type: 'document', mediaType, name: block.name ?? `document ${documents}`, bytes };
  };
  const messages = await Promise.all(
    request.messages.map(async (message, m): Promise<ModelMessage> => {
      if (typeof message.content === 'string') return { role: message.role, content: message.content };
      const blocks = await Promise.all(blocksOf(message.content).map((block, b) => resolveBlock(block, `data.messages[${m}].content[${b}]`)));
      return { role: message.role, content: blocks };
    }),
  );
  return { ...request, messages };
}
