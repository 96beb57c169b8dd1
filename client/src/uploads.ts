import { GatewayError } from './errors.js';
import { randomId } from './keepalive.js';
import type { ServerFrame, UploadFrame } from './protocol.generated.js';
import { errorOf } from './request.js';
import { putBytes, sizeOf, type Attachment, type UploadBody, type UploadOptions } from './upload.js';

/** What an upload needs of the client: the open connection and how long the gateway may take. */
export interface UploadLink {
  connect(): Promise<void>;
  send(frame: unknown): boolean;
  readonly timeoutMs: number;
}

/**
 * The client's uploads: each asks the gateway for a presigned URL (`llm/upload`), waits (bounded)
 * for its `upload` frame, PUTs the bytes, and gives the attachment with its content block.
 */
export class Uploads {
  /** `llm/upload` frames waiting for their `upload` (or `error`) answer. */
  private readonly waiting = new Map<string, { resolve: (frame: UploadFrame) => void; reject: (error: GatewayError) => void }>();

  constructor(private readonly link: UploadLink) {}

  async upload(body: UploadBody, options: UploadOptions): Promise<Attachment> {
    const mediaType = (options.mediaType ?? (body instanceof Blob ? body.type : '')).toLowerCase();
    const name = options.name ?? (typeof File !== 'undefined' && body instanceof File ? body.name : undefined);
    const size = sizeOf(body);
    const requestId = randomId();
    await this.link.connect();
    const answer = this.answerTo(requestId);
    try {
      if (!this.link.send({ action: 'llm/upload', requestId, data: { mediaType, size, ...(name ? { name } : {}) } })) {
        this.waiting.get(requestId)?.reject(new GatewayError('connection_lost', 'The connection closed before the upload was asked for.', { retryable: true }));
      }
    } catch (error) {
      // Not sent (payload_too_large: a name far over the gateway's limit): the upload fails with why.
      this.waiting.get(requestId)?.reject(error instanceof GatewayError ? error : new GatewayError('invalid_request', String(error)));
    }
    const frame = await answer;
    await putBytes(frame, body, options);
    const block = mediaType.startsWith('image/') ? { type: 'image' as const, attachmentId: frame.attachmentId } : { type: 'document' as const, attachmentId: frame.attachmentId, ...(name ? { name } : {}) };
    return { attachmentId: frame.attachmentId, mediaType, size, name, block };
  }

  /** Takes a frame if it answers an upload; returns whether it did. */
  receive(frame: ServerFrame & { requestId: string }): boolean {
    const waiter = this.waiting.get(frame.requestId);
    if (waiter === undefined || (frame.type !== 'upload' && frame.type !== 'error')) return false;
    if (frame.type === 'upload') waiter.resolve(frame);
    else waiter.reject(errorOf(frame));
    return true;
  }

  private answerTo(requestId: string): Promise<UploadFrame> {
    return new Promise<UploadFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new GatewayError('request_timeout', `The gateway did not answer the upload within ${this.link.timeoutMs} ms.`, { retryable: true }));
      }, this.link.timeoutMs);
      (timer as { unref?: () => void }).unref?.();
      const settle = <T,>(fn: (value: T) => void) => (value: T): void => {
        clearTimeout(timer);
        this.waiting.delete(requestId);
        fn(value);
      };
      this.waiting.set(requestId, { resolve: settle(resolve), reject: settle(reject) });
    });
  }
}
