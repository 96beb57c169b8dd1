/**
 * An uploaded object opened for reading: its size and type are known (from the response's
 * headers), its bytes not read yet — so a request's attachments can be counted and weighed
 * before any of them is held in memory.
 */
export interface OpenedAttachment {
  readonly size: number;
  /** The Content-Type it was uploaded with (bound by the presigned URL's signature). */
  readonly mediaType: string;
  /** Reads the bytes (once). */
  bytes(): Promise<Uint8Array>;
  /** Gives up reading: the body is closed unread. */
  discard(): void;
}

/**
 * Where attachments live: S3 in AWS and in the emulator (its own S3 endpoint). The route only
 * presigns uploads (it never touches the bytes); the worker reads them before the model call.
 */
export interface AttachmentStore {
  /**
   * A presigned PUT for one object whose signature binds its Content-Type and Content-Length:
   * S3 refuses any other type, length, or a use after `expiresInSeconds`.
   */
  presignUpload(key: string, mediaType: string, size: number, expiresInSeconds: number): Promise<{ url: string; headers: Record<string, string> }>;
  /** The object, opened (its bytes unread), or undefined when there is none. */
  open(key: string): Promise<OpenedAttachment | undefined>;
  /**
   * Copies an object within the bucket (server side: no byte passes through the caller) — how a
   * conversation keeps an upload beyond its expiry. False when there is no object at `from`.
   */
  copy(from: string, to: string): Promise<boolean>;
  /** Deletes these objects (absent ones are no error). */
  remove(keys: readonly string[]): Promise<void>;
  /** Deletes every object under `prefix`; returns how many there were. */
  removeAll(prefix: string): Promise<number>;
}

/** Attachments are off (no ATTACHMENTS_BUCKET): every use is refused with this. */
export const ATTACHMENTS_OFF = 'Attachments are not enabled on this gateway (no ATTACHMENTS_BUCKET).';
