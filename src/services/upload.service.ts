import type { AttachmentStore } from '../attachments/attachment-store';
import { ATTACHMENTS_OFF } from '../attachments/attachment-store';
import { attachmentKey, newAttachmentId } from '../attachments/keys';
import { MEDIA_TYPES, mediaTypeOf } from '../attachments/media-types';
import type { AppConfig } from '../config/config';
import type { Caller } from '../models/caller';
import { GatewayError } from '../models/errors';
import type { UploadFrame as UploadRequest } from '../models/protocol';
import type { UploadFrame } from '../models/server-frames';
import type { CounterStore } from '../stores/counter-store';
import { subjectKey } from './rate-limit';

export interface UploadServiceDeps {
  readonly config: AppConfig;
  readonly counters: CounterStore;
  readonly attachments: AttachmentStore | undefined;
}

const invalid = (detail: string): GatewayError => new GatewayError('invalid_request', `Invalid request: ${detail}.`);

/**
 * `llm/upload`: checks the declared type and size, counts the upload toward the user's limits
 * (uploads a minute, bytes a day: the bucket is not free storage), and answers a presigned PUT
 * bound to that type and size. No URL exists for anything refused.
 */
export class UploadService {
  constructor(private readonly deps: UploadServiceDeps) {}

  async upload(caller: Caller, frame: UploadRequest, requestId: string): Promise<UploadFrame> {
    const { attachments, config } = this.deps;
    if (attachments === undefined) throw invalid(ATTACHMENTS_OFF.replace(/\.$/, ''));
    const { mediaType, size } = frame.data;
    const type = mediaTypeOf(mediaType.toLowerCase());
    if (type === undefined) {
      throw invalid(`data.mediaType "${mediaType}" cannot be attached; allowed: ${Object.keys(MEDIA_TYPES).join(', ')}`);
    }
    if (size > type.maxBytes) throw invalid(`data.size must be at most ${type.maxBytes} bytes for ${type.kind === 'image' ? 'an image' : 'a document'} (got ${size})`);
    const owner = subjectKey(caller);
    const release = await this.count(owner, size);
    try {
      const attachmentId = newAttachmentId();
      const ttl = config.attachments.urlTtlSeconds;
      const { url, headers } = await attachments.presignUpload(attachmentKey(owner, attachmentId), mediaType.toLowerCase(), size, ttl);
      return { type: 'upload', requestId, attachmentId, url, method: 'PUT', headers, expiresAt: new Date(Date.now() + ttl * 1000).toISOString(), maxBytes: size };
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** Counts one upload of `size` bytes (a minute's uploads, a UTC day's bytes); returns how to give it back. */
  private async count(owner: string, size: number): Promise<() => Promise<void>> {
    const { counters, config } = this.deps;
    const { uploadsPerMinute, maxBytesPerDay } = config.attachments;
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const day = Math.floor(now / 86_400_000);
    const taken: Array<() => Promise<void>> = [];
    const giveBack = async (): Promise<void> => void (await Promise.all(taken.map((undo) => undo())));
    if (uploadsPerMinute > 0) {
      const key = `upl:${owner}:${minute}`;
      if (!(await counters.tryAdd(key, 1, uploadsPerMinute, (minute + 2) * 60)).ok) {
        throw new GatewayError('rate_limited', `Upload limit reached: ${uploadsPerMinute} uploads a minute.`, { retryable: true, retryAfterMs: (minute + 1) * 60_000 - now });
      }
      taken.push(() => counters.release(key, 1));
    }
    if (maxBytesPerDay > 0) {
      const key = `upb:${owner}:${day}`;
      if (!(await counters.tryAdd(key, size, maxBytesPerDay, (day + 2) * 86_400)).ok) {
        await giveBack();
        throw new GatewayError('rate_limited', `Upload limit reached: ${maxBytesPerDay} bytes a day.`, { retryable: true, retryAfterMs: (day + 1) * 86_400_000 - now });
      }
      taken.push(() => counters.release(key, size));
    }
    return giveBack;
  }
}
