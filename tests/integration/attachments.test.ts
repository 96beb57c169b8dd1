import type { LocalGateway } from '../../src/local/emulator';
import { askUpload, pdf, png, put, uploaded } from '../helpers/attachments';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';
import { modeSuite, STORE_MODES } from '../helpers/store-modes';
import { sleep, TestClient, type Frame } from '../helpers/ws-client';

/**
 * Attachments through the emulator, with the real presigner and S3 client against its S3: an
 * upload URL bound to type and length, what S3 refuses, the worker's checks before the model
 * call, the mock's description — in memory and on DynamoDB (the upload limits live there).
 */
const text = (frames: Frame[]): string => frames.filter((f) => f.type === 'chunk').map((f) => f.content as string).join('');

describe.each(STORE_MODES)('attachments, %s mode', (_name, makeMode) => {
  const { pool, start } = modeSuite(makeMode);
  let local: LocalGateway;

  let counter = 0;
  async function ask(client: TestClient, messages: unknown[]): Promise<{ frames: Frame[]; end: Frame }> {
    const requestId = `q-${(counter += 1)}`;
    client.send({ action: 'llm/stream', requestId, data: { messages } });
    const end = await client.terminal(requestId, 10_000);
    return { frames: client.of(requestId), end };
  }

  it('uploads an image and a PDF through presigned PUTs, and the model gets both (the mock says what it received)', async () => {
    local = await start();
    const client = await pool.connect();
    const image = png();
    const upload = await askUpload(client, 'image/png', image.length, 'dot.png');
    expect(upload).toMatchObject({ type: 'upload', method: 'PUT', headers: { 'content-type': 'image/png' }, maxBytes: image.length });
    expect(upload.attachmentId).toMatch(/^att_[A-Za-z0-9_-]{22}$/);
    expect(new URL(upload.url as string).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(Date.parse(upload.expiresAt as string) - Date.now()).toBeGreaterThan(250_000);
    expect((await put(upload, image)).status).toBe(200);
    const docId = await uploaded(client, 'application/pdf', pdf());
    const { frames, end } = await ask(client, [
      { role: 'user', content: [{ type: 'text', text: 'what are these?' }, { type: 'image', attachmentId: upload.attachmentId }, { type: 'document', attachmentId: docId, name: 'report.pdf' }] },
    ]);
    expect(end).toMatchObject({ type: 'done', stopReason: 'end_turn' });
    expect(text(frames)).toBe(`I received an image (image/png, ${image.length} bytes), a document "report.pdf" (application/pdf, ${pdf().length} bytes). `);
  });

  it('quotes a text document’s first words, takes a small image inline, and keeps attachments in the history for later turns', async () => {
    local = await start();
    const client = await pool.connect();
    const notes = Buffer.from('Quarterly numbers went up by twelve percent this year, mostly thanks to exports.');
    const notesId = await uploaded(client, 'text/plain', notes);
    const first = await ask(client, [{ role: 'user', content: [{ type: 'document', attachmentId: notesId, name: 'notes.txt' }, { type: 'image', mediaType: 'image/png', data: png().toString('base64') }] }]);
    expect(text(first.frames)).toBe(`I received a document "notes.txt" (text/plain, ${notes.length} bytes) beginning "Quarterly numbers went up by twelve percent this", an image (image/png, ${png().length} bytes). `);
    // The next turn sends the history, attachments included: they are read (and checked) again.
    const history = [{ role: 'user', content: [{ type: 'document', attachmentId: notesId, name: 'notes.txt' }] }, { role: 'assistant', content: text(first.frames) }, { role: 'user', content: 'and so?' }];
    const second = await ask(client, history);
    expect(second.end).toMatchObject({ type: 'done', stopReason: 'end_turn' });
    expect(text(second.frames)).toMatch(/^You said: "and so\?"/);
  });

  it('refuses before any URL exists: a type that cannot be attached, a size over its kind’s limit, too many uploads a minute', async () => {
    local = await start({ ATTACHMENT_UPLOADS_PER_MINUTE: '2' });
    const client = await pool.connect();
    expect(await askUpload(client, 'image/svg+xml', 100)).toMatchObject({ type: 'error', code: 'invalid_request', message: expect.stringContaining('data.mediaType "image/svg+xml" cannot be attached; allowed: image/png') as string });
    expect(await askUpload(client, 'image/png', 4 * 1024 * 1024)).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.size must be at most 3932160 bytes for an image (got 4194304).' });
    expect(await askUpload(client, 'application/pdf', 10)).toMatchObject({ type: 'upload' });
    expect(await askUpload(client, 'application/pdf', 10)).toMatchObject({ type: 'upload' });
    expect(await askUpload(client, 'application/pdf', 10)).toMatchObject({ type: 'error', code: 'rate_limited', retryable: true, message: 'Upload limit reached: 2 uploads a minute.' });
  });

  it('S3 refuses a PUT of another type or length, with a tampered signature, or after the URL expired', async () => {
    local = await start({ ATTACHMENT_URL_TTL_SECONDS: '1' });
    const client = await pool.connect();
    const image = png();
    const upload = await askUpload(client, 'image/png', image.length);
    const wrongType = await put(upload, image, { 'content-type': 'application/pdf' });
    expect(wrongType).toMatchObject({ status: 403, body: expect.stringContaining('<Code>SignatureDoesNotMatch</Code>') as string });
    expect((await put(upload, Buffer.concat([image, Buffer.from('more')]))).status).toBe(403);
    const tampered = { ...upload, url: (upload.url as string).replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`) };
    expect((await put(tampered, image)).status).toBe(403);
    await sleep(2100);
    expect(await put(upload, image)).toMatchObject({ status: 403, body: expect.stringContaining('<Message>Request has expired</Message>') as string });
    expect(local.s3.size).toBe(0);
  });

  it('checks the bytes before the model call: a PNG declared as PDF, and an unknown id, are invalid_request naming the block', async () => {
    local = await start();
    const client = await pool.connect();
    const fake = await uploaded(client, 'application/pdf', png());
    const mismatch = await ask(client, [{ role: 'user', content: [{ type: 'document', attachmentId: fake }] }]);
    expect(mismatch.end).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.messages[0].content[0]: its bytes are not a application/pdf file.' });
    const unknown = await ask(client, [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image', attachmentId: 'att_AAAAAAAAAAAAAAAAAAAAAA' }] }]);
    expect(unknown.end).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.messages[0].content[1].attachmentId: unknown attachment "att_AAAAAAAAAAAAAAAAAAAAAA".' });
    const kind = await ask(client, [{ role: 'user', content: [{ type: 'image', attachmentId: await uploaded(client, 'application/pdf', pdf()) }] }]);
    expect(kind.end).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.messages[0].content[0]: a image block cannot carry application/pdf.' });
  });

  it('resumes an answer about an image on a new connection, whole and once', async () => {
    local = await start({ MOCK_TOKEN_DELAY_MS: '60', STREAM_FLUSH_INTERVAL_MS: '0', RESUME_GRACE_SECONDS: '30' });
    const first = await pool.connect();
    const id = await uploaded(first, 'image/png', png());
    first.send({ action: 'llm/stream', requestId: 'img-1', data: { messages: [{ role: 'user', content: [{ type: 'image', attachmentId: id }] }] } });
    await first.waitFor((all) => all.some((f) => f.requestId === 'img-1' && f.type === 'chunk'), 10_000, 'the first chunk');
    const token = first.frames.find((f) => f.requestId === 'img-1' && f.type === 'accepted')!.resumeToken as string;
    first.socket.terminate();
    const before = first.of('img-1').filter((f) => f.type === 'chunk');
    const second = await pool.connect();
    second.send({ action: 'llm/resume', requestId: 'img-1', data: { resumeToken: token, fromSeq: before.length } });
    expect(await second.terminal('img-1', 15_000)).toMatchObject({ type: 'done' });
    expect(text([...before, ...second.of('img-1')])).toBe(`I received an image (image/png, ${png().length} bytes). `);
  });
});

describe('attachments with auth on: readable only by the user who uploaded them', () => {
  let local: LocalGateway;
  afterEach(() => local.stop());

  it('another user’s attachment reads exactly like an unknown one', async () => {
    local = await startLocal({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    const alice = await TestClient.connect(`${local.url}?token=${await hs256(claims({ sub: 'alice' }))}`);
    const bob = await TestClient.connect(`${local.url}?token=${await hs256(claims({ sub: 'bob' }))}`);
    try {
      const id = await uploaded(alice, 'image/png', png());
      alice.send({ action: 'llm/stream', requestId: 'a-1', data: { messages: [{ role: 'user', content: [{ type: 'image', attachmentId: id }] }] } });
      expect(await alice.terminal('a-1', 10_000)).toMatchObject({ type: 'done' });
      bob.send({ action: 'llm/stream', requestId: 'b-1', data: { messages: [{ role: 'user', content: [{ type: 'image', attachmentId: id }] }] } });
      expect(await bob.terminal('b-1', 10_000)).toMatchObject({ type: 'error', code: 'invalid_request', message: `Invalid request: data.messages[0].content[0].attachmentId: unknown attachment "${id}".` });
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
