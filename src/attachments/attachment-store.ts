/** An uploaded object as the worker reads it. */
export interface StoredAttachment {
  readonly bytes: Uint8Array;
  /** The Content-Type it was uploaded with (bound by the presigned URL's signature). */
  readonly mediaType: string;
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
  /** The object, or undefined when there is none (or it is larger than `maxBytes`, which is then not read). */
  read(key: string, maxBytes: number): Promise<StoredAttachment | 'too_large' | undefined>;
}

/** Attachments are off (no ATTACHMENTS_BUCKET): every use is refused with this. */
export const ATTACHMENTS_OFF = 'Attachments are not enabled on this gateway (no ATTACHMENTS_BUCKET).';
