import type { ChatModelRequest } from '../llm/chat-model';
import { blocksOf, type ModelBlock, type ModelMessage } from '../models/content';
import { GatewayError } from '../models/errors';
import type { JobRequest } from '../models/job';
import type { ContentBlock, DocumentBlock, ImageBlock } from '../models/protocol';
import { ATTACHMENTS_OFF, type AttachmentStore, type OpenedAttachment } from './attachment-store';
import type { ByteBudget } from './byte-budget';
import { bytesMatch, mediaTypeOf } from './media-types';

const invalid = (detail: string): GatewayError => new GatewayError('invalid_request', `Invalid request: ${detail}.`);

/** The most images and documents any provider behind the gateway takes in a request (Amazon Bedrock's). */
export const MAX_IMAGES = 20;
export const MAX_DOCUMENTS = 5;

/** What one request's attachments may add up to, checked before any of them is read. */
export interface AttachmentLimits {
  /** Image blocks in a request (Amazon Bedrock's limit; a provider may allow fewer, checked later). */
  readonly maxImages: number;
  readonly maxDocuments: number;
  /** Bytes of all its attachments together (each counted once, however often it is referred to). */
  readonly maxBytesPerRequest: number;
}

export interface ResolveDeps {
  readonly store: AttachmentStore | undefined;
  /** The bytes the worker process holds at once, across the answers it runs. */
  readonly budget: ByteBudget;
  readonly limits: AttachmentLimits;
}

/** The request as the model gets it, and what gives its attachments' share of the budget back. */
export interface Resolved {
  readonly request: ChatModelRequest;
  readonly release: () => void;
}

type AttachmentBlock = ImageBlock | DocumentBlock;
const isAttachment = (block: ContentBlock): block is AttachmentBlock => block.type === 'image' || block.type === 'document';

/**
 * The request as the model gets it: every attachment read (at `keyOf(id)`: under its owner's
 * prefix only, and a conversation's under the conversation's) and
 * checked — it exists, its size is within its kind's limit, its kind fits the block, and its
 * bytes are what its media type says (magic numbers) — and every inline image decoded and
 * checked the same way. Runs in the worker, before the model call; a failure is one
 * `invalid_request` naming the block.
 *
 * Memory is bounded before anything is read: the blocks are counted, each attachment is opened
 * once however often the conversation refers to it (its size comes from the response's headers),
 * their total is checked against the request's limit and then taken from the worker's budget
 * (waiting while other answers hold it); only then are the bodies read.
 */
export async function resolveRequest(request: JobRequest, keyOf: (attachmentId: string) => string, deps: ResolveDeps, signal: AbortSignal): Promise<Resolved> {
  const found = request.messages.flatMap((message, m) =>
    typeof message.content === 'string' ? [] : blocksOf(message.content).flatMap((block, b) => (isAttachment(block) ? [{ block, at: `data.messages[${m}].content[${b}]` }] : [])),
  );
  const { limits } = deps;
  const images = found.filter(({ block }) => block.type === 'image').length;
  if (images > limits.maxImages) throw invalid(`a request may carry at most ${limits.maxImages} images (this one has ${images})`);
  if (found.length - images > limits.maxDocuments) throw invalid(`a request may carry at most ${limits.maxDocuments} documents (this one has ${found.length - images})`);

  const opened = await openEach(found, keyOf, deps.store);
  try {
    const inline = found.reduce((sum, { block }) => sum + (block.type === 'image' && block.attachmentId === undefined ? Math.ceil(((block.data ?? '').length * 3) / 4) : 0), 0);
    const total = [...opened.values()].reduce((sum, file) => sum + file.size, inline);
    if (total > limits.maxBytesPerRequest) {
      throw invalid(`the attachments add up to ${total} bytes, more than the ${limits.maxBytesPerRequest} one request may carry`);
    }
    const release = await deps.budget.take(total, signal);
    try {
      const files = new Map(await Promise.all([...opened].map(async ([id, file]) => [id, { mediaType: file.mediaType, bytes: await file.bytes() }] as const)));
      opened.clear();
      let documents = 0;
      const resolveBlock = (block: ContentBlock, at: string): ModelBlock => {
        if (!isAttachment(block)) return block;
        const file = block.attachmentId !== undefined ? files.get(block.attachmentId) : undefined;
        const mediaType = file?.mediaType ?? (block.type === 'image' ? (block.mediaType ?? '') : '');
        const bytes = file?.bytes ?? Buffer.from(block.type === 'image' ? (block.data ?? '') : '', 'base64');
        const type = mediaTypeOf(mediaType);
        if (type === undefined || type.kind !== block.type) throw invalid(`${at}: a ${block.type} block cannot carry ${mediaType || 'this type'}`);
        if (bytes.length > type.maxBytes) throw invalid(`${at}: the attachment is larger than ${type.maxBytes} bytes`);
        if (!bytesMatch(mediaType, bytes)) throw invalid(`${at}: its bytes are not a ${mediaType} file`);
        if (block.type === 'image') return { type: 'image', mediaType, bytes };
        documents += 1;
        return { type: 'document', mediaType, name: block.name ?? `document ${documents}`, bytes };
      };
      const messages = request.messages.map(
        (message, m): ModelMessage =>
          typeof message.content === 'string' ? { role: message.role, content: message.content } : { role: message.role, content: blocksOf(message.content).map((block, b) => resolveBlock(block, `data.messages[${m}].content[${b}]`)) },
      );
      return { request: { ...request, messages }, release };
    } catch (error) {
      release();
      throw error;
    }
  } finally {
    for (const file of opened.values()) file.discard();
  }
}

/**
 * Opens each uploaded attachment once, in parallel (headers only); an unknown id, or one larger
 * than its kind may be, is refused before any body is read.
 */
async function openEach(found: ReadonlyArray<{ readonly block: AttachmentBlock; readonly at: string }>, keyOf: (attachmentId: string) => string, store: AttachmentStore | undefined): Promise<Map<string, OpenedAttachment>> {
  const uploaded = found.filter(({ block }) => block.attachmentId !== undefined);
  if (uploaded.length > 0 && store === undefined) throw invalid(ATTACHMENTS_OFF.replace(/\.$/, ''));
  const ids = [...new Set(uploaded.map(({ block }) => block.attachmentId!))];
  const settled = await Promise.allSettled(ids.map((id) => store!.open(keyOf(id))));
  const opened = new Map<string, OpenedAttachment>();
  settled.forEach((outcome, i) => outcome.status === 'fulfilled' && outcome.value !== undefined && opened.set(ids[i]!, outcome.value));
  try {
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    for (const entry of uploaded) {
      const file = opened.get(entry.block.attachmentId!);
      // Another user's attachment and an unknown one read the same: nothing tells them apart.
      if (file === undefined) throw invalid(`${entry.at}.attachmentId: unknown attachment "${entry.block.attachmentId}"`);
      const limit = mediaTypeOf(entry.block.type === 'image' ? 'image/png' : 'application/pdf')?.maxBytes ?? 0;
      if (file.size > limit) throw invalid(`${entry.at}: the attachment is larger than ${entry.block.type === 'image' ? 'an image' : 'a document'} may be`);
    }
    return opened;
  } catch (error) {
    for (const file of opened.values()) file.discard();
    throw error;
  }
}
