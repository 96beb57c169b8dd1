import { deflateSync } from 'node:zlib';
import type { Frame, TestClient } from './ws-client';

/** A real 2×2 PNG (signature, IHDR, IDAT, IEND; CRCs not checked by anything here). */
export function png(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, 'ascii'), data, Buffer.alloc(4)]);
  };
  const header = Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
  const pixels = deflateSync(Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

/** A minimal one-page PDF. */
export function pdf(): Buffer {
  return Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', 'latin1');
}

let counter = 0;

/** Asks the gateway for an upload URL over the socket; resolves with its `upload` (or `error`) frame. */
export async function askUpload(client: TestClient, mediaType: string, size: number, name?: string): Promise<Frame> {
  const requestId = `up-${(counter += 1)}`;
  client.send({ action: 'llm/upload', requestId, data: { mediaType, size, ...(name ? { name } : {}) } });
  await client.waitFor((frames) => frames.some((f) => f.requestId === requestId && (f.type === 'upload' || f.type === 'error')), 5000, `the answer to ${requestId}`);
  return client.frames.find((f) => f.requestId === requestId && (f.type === 'upload' || f.type === 'error'))!;
}

/** PUTs bytes to an upload frame's URL as a browser would; resolves with S3's status and body. */
export async function put(upload: Frame, bytes: Buffer, headers: Record<string, string> = upload.headers as Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await fetch(upload.url as string, { method: 'PUT', headers, body: new Uint8Array(bytes) });
  return { status: response.status, body: await response.text() };
}

/** Upload and PUT in one: the attachment id of a stored file. */
export async function uploaded(client: TestClient, mediaType: string, bytes: Buffer): Promise<string> {
  const upload = await askUpload(client, mediaType, bytes.length);
  if (upload.type !== 'upload') throw new Error(`upload refused: ${JSON.stringify(upload)}`);
  const { status, body } = await put(upload, bytes);
  if (status !== 200) throw new Error(`PUT refused ${status}: ${body}`);
  return upload.attachmentId as string;
}
