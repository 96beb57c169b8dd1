import { GatewayError } from './errors.js';
import type { UploadFrame } from './protocol.generated.js';

/** What `upload()` takes: a browser File or Blob, or bytes. */
export type UploadBody = Blob | Uint8Array | ArrayBuffer;

export interface UploadOptions {
  /** The media type; a File's or Blob's own `type` when left out. */
  readonly mediaType?: string;
  /** A document's name (shown to the model); a File's `name` when left out. */
  readonly name?: string;
  /** Upload progress, 0…1 (in browsers, through XMLHttpRequest; elsewhere only at the end). */
  readonly onProgress?: (fraction: number) => void;
  readonly signal?: AbortSignal;
}

/** An uploaded attachment, and the content block that refers to it. */
export interface Attachment {
  readonly attachmentId: string;
  readonly mediaType: string;
  readonly size: number;
  readonly name: string | undefined;
  readonly block: { type: 'image'; attachmentId: string } | { type: 'document'; attachmentId: string; name?: string };
}

export function sizeOf(body: UploadBody): number {
  return body instanceof Blob ? body.size : body.byteLength;
}

/** PUTs the bytes to a presigned URL; with XMLHttpRequest (browsers) it reports progress. */
export async function putBytes(frame: UploadFrame, body: UploadBody, options: UploadOptions): Promise<void> {
  const XHR = (globalThis as { XMLHttpRequest?: typeof XMLHttpRequest }).XMLHttpRequest;
  const payload: Blob | Uint8Array = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
  if (XHR !== undefined) {
    await new Promise<void>((resolve, reject) => {
      const xhr = new XHR();
      xhr.open('PUT', frame.url);
      for (const [name, value] of Object.entries(frame.headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => event.lengthComputable && options.onProgress?.(event.loaded / event.total);
      xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(refused(xhr.status, xhr.responseText)));
      xhr.onerror = () => reject(new GatewayError('connection_lost', 'The upload could not reach the storage.', { retryable: true }));
      options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.onabort = () => reject(new GatewayError('cancelled', 'The upload was cancelled.'));
      xhr.send(payload as XMLHttpRequestBodyInit);
    });
  } else {
    const response = await fetch(frame.url, { method: frame.method, headers: frame.headers, body: payload as BodyInit, ...(options.signal ? { signal: options.signal } : {}) });
    if (!response.ok) throw refused(response.status, await response.text());
  }
  options.onProgress?.(1);
}

/** S3's refusal, its code read from the XML error (e.g. "Request has expired"). */
function refused(status: number, body: string): GatewayError {
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? `HTTP ${status}`;
  return new GatewayError(status === 403 && /expired/i.test(message) ? 'request_timeout' : 'upstream_error', `The storage refused the upload: ${message}`, { retryable: status >= 500 });
}
