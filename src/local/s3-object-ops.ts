import { createHash } from 'node:crypto';
import type http from 'node:http';

/** An object the emulator's S3 holds. */
export interface StoredObject {
  readonly bytes: Buffer;
  readonly contentType: string;
}

/** S3's error body. */
export function s3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

const xml = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const etagOf = (bytes: Buffer): string => `"${createHash('md5').update(bytes).digest('hex')}"`;

/**
 * What the gateway itself asks of S3 beside presigned uploads and reads, in S3's REST shapes, for
 * the SDK's own clients: CopyObject (a PUT with `x-amz-copy-source`: a conversation keeps an
 * upload), ListObjectsV2 and DeleteObject (a deleted conversation's attachments). Requests are
 * header-signed (SigV4 `Authorization`); like the emulator's reads, only the key id is checked.
 */
export class S3ObjectOps {
  constructor(
    private readonly objects: Map<string, StoredObject>,
    private readonly bucket: string,
  ) {}

  copy(res: http.ServerResponse, key: string, source: string): void {
    const from = decodeURIComponent(source.replace(/^\//, ''));
    const object = from.startsWith(`${this.bucket}/`) ? this.objects.get(from.slice(this.bucket.length + 1)) : undefined;
    if (object === undefined) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    this.objects.set(key, object);
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><ETag>${xml(etagOf(object.bytes))}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`);
  }

  /** ListObjectsV2: keys in order, `max-keys` (1,000 at most) a page, continued by the last key. */
  list(res: http.ServerResponse, query: URLSearchParams): void {
    const prefix = query.get('prefix') ?? '';
    const maxKeys = Math.min(1000, Number(query.get('max-keys') ?? 1000));
    const after = query.get('continuation-token') ?? query.get('start-after') ?? '';
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const contents = page.map((key) => `<Contents><Key>${xml(key)}</Key><Size>${this.objects.get(key)!.bytes.length}</Size><ETag>${xml(etagOf(this.objects.get(key)!.bytes))}</ETag><StorageClass>STANDARD</StorageClass></Contents>`).join('');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(this.bucket)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${truncated ? `<NextContinuationToken>${xml(page[page.length - 1]!)}</NextContinuationToken>` : ''}</ListBucketResult>`,
    );
  }

  /** DeleteObject: 204 whether or not the key existed, as S3 answers. */
  delete(res: http.ServerResponse, key: string): void {
    this.objects.delete(key);
    res.writeHead(204);
    res.end();
  }
}
