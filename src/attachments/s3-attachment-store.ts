import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AttachmentStore, OpenedAttachment } from './attachment-store';

export interface S3StoreOptions {
  readonly bucket: string;
  readonly region: string;
  /** The emulator's endpoint (path-style addressing); unset in AWS. */
  readonly endpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The S3 client, made once per cold start. */
export function createS3Client(options: S3StoreOptions): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // The SDK's default flexible checksums would sign a CRC32 of the *empty* body into a presigned
    // PUT, and S3 would refuse the real file when it arrives: checksums only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Attachments in an S3 bucket, uploaded by clients through presigned PUTs. */
export class S3AttachmentStore implements AttachmentStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async presignUpload(key: string, mediaType: string, size: number, expiresInSeconds: number): Promise<{ url: string; headers: Record<string, string> }> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: mediaType, ContentLength: size });
    // Both headers signed: the URL uploads exactly this type and this many bytes.
    const url = await getSignedUrl(this.client, command, { expiresIn: expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length']) });
    return { url, headers: { 'content-type': mediaType } };
  }

  async open(key: string): Promise<OpenedAttachment | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = object.Body;
      return {
        size: object.ContentLength ?? 0,
        mediaType: object.ContentType ?? 'application/octet-stream',
        bytes: async () => (await body?.transformToByteArray()) ?? new Uint8Array(),
        discard: () => void body?.transformToWebStream().cancel().catch(() => undefined),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async copy(from: string, to: string): Promise<boolean> {
    try {
      // Keys are URL-safe (hex, base64url and ids), so the copy source needs no encoding.
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${from}` }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async remove(keys: readonly string[]): Promise<void> {
    // One DeleteObject each: a conversation refers to a few attachments, and DeleteObjects would
    // need a Content-MD5 the SDK computes only with the flexible checksums turned off here.
    await Promise.all(keys.map((key) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))));
  }

  async removeAll(prefix: string): Promise<number> {
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key !== undefined ? [object.Key] : []));
      await this.remove(keys);
      removed += keys.length;
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return removed;
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof NoSuchKey || (error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey'));
}
