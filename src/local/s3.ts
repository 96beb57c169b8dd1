import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { Logger } from '../utils/logger';
import { S3ObjectOps, s3Error, type StoredObject } from './s3-object-ops';

/** SHA-256 (or its HMAC with a secret) in the shape the SigV4 signer takes. */
type Data = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: Data): string | Uint8Array =>
  typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: Data): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

export interface LocalS3Options {
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** A clock (tests). */
  readonly now?: () => number;
}

/** `20261202T142656Z` → epoch ms. */
function amzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

/**
 * The emulator's S3, on a port of its own, for the attachments' presigned URLs: a PUT must carry
 * a valid SigV4 query signature (recomputed here with the SDK's own presigner from the request as
 * it arrived — so a changed Content-Type or Content-Length, a tampered signature or another key
 * is refused, as S3 refuses it) and arrive before the URL expires; S3's XML errors. GET serves
 * the worker's reads (path-style, as the app's client is configured locally). Objects live in
 * memory. CORS is open, as a local page on any origin must be able to PUT.
 */
export class LocalS3 {
  private readonly objects = new Map<string, StoredObject>();
  private server: http.Server | undefined;
  private readonly presigner: S3RequestPresigner;
  private readonly ops: S3ObjectOps;
  /** Set once the app's logger exists (the S3 endpoint is needed before the app's config). */
  log: Logger | undefined;

  constructor(private readonly options: LocalS3Options) {
    this.presigner = new S3RequestPresigner({ credentials: options.credentials, region: options.region, sha256: Sha256 });
    this.ops = new S3ObjectOps(this.objects, options.bucket);
  }

  /** Starts listening; resolves with the endpoint (`http://host:port`). */
  start(host: string, port = 0): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    return new Promise((resolve) => {
      server.listen(port, host, () => {
        const address = server.address() as AddressInfo;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server === undefined) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Objects held (tests). */
  get size(): number {
    return this.objects.size;
  }

  /** The keys held (tests). */
  keys(): string[] {
    return [...this.objects.keys()].sort();
  }

  /** Drops an object as a lifecycle rule would (tests). */
  removeForTest(key: string): void {
    this.objects.delete(key);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(200, {
        'access-control-allow-methods': 'PUT, GET',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type',
        'access-control-max-age': '3600',
      });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://local');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = rest.join('/');
    if (bucket !== this.options.bucket) return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    try {
      const source = req.headers['x-amz-copy-source'];
      // The SDK's header-signed calls (copy, list, delete) are the gateway's own: the key id must be this one's.
      const signed = (req.headers.authorization ?? '').includes(`Credential=${this.options.credentials.accessKeyId}/`);
      if ((typeof source === 'string' || req.method === 'DELETE' || (req.method === 'GET' && key === '')) && !signed) s3Error(res, 403, 'AccessDenied', 'Access Denied');
      else if (req.method === 'PUT' && typeof source === 'string') this.ops.copy(res, key, source);
      else if (req.method === 'PUT') await this.put(req, res, url, key);
      else if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') this.ops.list(res, url.searchParams);
      else if (req.method === 'GET') this.get(req, res, key);
      else if (req.method === 'DELETE') this.ops.delete(res, key);
      else s3Error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    } catch (error) {
      this.log?.error({ err: error }, 'local S3 failed');
      if (!res.headersSent) s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
  }

  private async put(req: http.IncomingMessage, res: http.ServerResponse, url: URL, key: string): Promise<void> {
    const query = url.searchParams;
    const signature = query.get('X-Amz-Signature');
    if (signature === null) return s3Error(res, 403, 'AccessDenied', 'Access Denied');
    const signedAt = amzDate(query.get('X-Amz-Date') ?? '');
    const expiresIn = Number(query.get('X-Amz-Expires'));
    const now = (this.options.now ?? Date.now)();
    if (!Number.isFinite(signedAt) || !Number.isInteger(expiresIn)) return s3Error(res, 400, 'AuthorizationQueryParametersError', 'Query-string authentication requires X-Amz-Date and X-Amz-Expires');
    if (now > signedAt + expiresIn * 1000) return s3Error(res, 403, 'AccessDenied', 'Request has expired');
    const signedHeaders = (query.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '');
    const [hostname, port] = (req.headers.host ?? '').split(':');
    // The URL's own parameters (the SDK's `x-id`); the signer adds the X-Amz-* ones again.
    const own = Object.fromEntries([...query.entries()].filter(([name]) => !name.startsWith('X-Amz-')));
    // The same request, presigned again with this emulator's key at the same moment: the
    // signature matches only if nothing signed was changed.
    const expected = await this.presigner.presign(
      { method: 'PUT', protocol: 'http:', hostname: hostname ?? '', port: port ? Number(port) : undefined, path: url.pathname, query: own, headers },
      { signingDate: new Date(signedAt), expiresIn, signableHeaders: new Set(signedHeaders) },
    );
    if (expected.query?.['X-Amz-Signature'] !== signature || !query.get('X-Amz-Credential')?.startsWith(`${this.options.credentials.accessKeyId}/`)) {
      return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (req.headers['content-length'] !== undefined && Number(req.headers['content-length']) !== bytes.length) {
      return s3Error(res, 400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    }
    this.objects.set(key, { bytes, contentType: String(req.headers['content-type'] ?? 'binary/octet-stream') });
    res.writeHead(200, { etag: `"${createHash('md5').update(bytes).digest('hex')}"` });
    res.end();
  }

  private get(req: http.IncomingMessage, res: http.ServerResponse, key: string): void {
    // The worker's reads carry a SigV4 Authorization header; it must at least name this key.
    const auth = req.headers.authorization ?? '';
    if (!auth.includes(`Credential=${this.options.credentials.accessKeyId}/`)) return s3Error(res, 403, 'AccessDenied', 'Access Denied');
    const object = this.objects.get(key);
    if (object === undefined) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, { 'content-type': object.contentType, 'content-length': String(object.bytes.length) });
    res.end(object.bytes);
  }
}
