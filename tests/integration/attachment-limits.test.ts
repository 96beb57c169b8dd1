import { S3AttachmentStore } from '../../src/attachments/s3-attachment-store';
import { png, uploaded } from '../helpers/attachments';
import { modeSuite, STORE_MODES } from '../helpers/store-modes';
import { freshMinute, type Frame, type TestClient } from '../helpers/ws-client';

/**
 * What attachments may cost before the model is called: tokens by their real size (a text
 * document is not a flat 5,000 tokens), and the worker's memory — each attachment read once
 * however often it is referred to, counts and bytes checked before any body is read.
 */
const doc = (bytes: number, seed: number): Buffer => Buffer.from(Array.from({ length: bytes }, (_, i) => String.fromCharCode(97 + ((i * 7 + seed) % 26))).join(''));

/** A 3.7 MB PNG: a real signature and header, then filler (the mock reads no pixels). */
const bigPng = (bytes = 3_700_000): Buffer => Buffer.concat([png(), Buffer.alloc(bytes - png().length, 7)]);

describe.each(STORE_MODES)('attachment limits, %s mode', (_name, makeMode) => {
  const { pool, start } = modeSuite(makeMode);
  let counter = 0;
  const ask = async (client: TestClient, content: unknown[]): Promise<Frame> => {
    const requestId = `a-${(counter += 1)}`;
    client.send({ action: 'llm/stream', requestId, data: { messages: [{ role: 'user', content: [{ type: 'text', text: 'read these' }, ...content] }] } });
    return client.terminal(requestId, 20_000);
  };
  afterEach(() => jest.restoreAllMocks());

  it('never admits more tokens a minute than the limit when documents are larger than their estimate', async () => {
    await freshMinute(25_000);
    await start({ RATE_LIMIT_TOKENS_PER_MINUTE: '40000', MAX_CONCURRENT_PER_CONNECTION: '10', MAX_CONCURRENT_PER_USER: '10' });
    const client = await pool.connect();
    // 60 KB of text each: about 15,000 tokens, three times the flat estimate an id gets at admission.
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => uploaded(client, 'text/plain', doc(60_000, i))));
    const ends = await Promise.all(ids.map((attachmentId) => ask(client, [{ type: 'document', attachmentId }])));
    const answered = ends.filter((f) => f.type === 'done');
    // Each needs ~16,400 tokens (its text and 1,000 for the answer): two fit in 40,000, never three.
    expect(answered.length).toBeLessThanOrEqual(2);
    // Refused at admission, or in the worker once their documents were read (most of them).
    const refusals = ends.filter((f) => f.type === 'error');
    expect(refusals.length).toBe(6 - answered.length);
    for (const refused of refusals) expect(refused).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(refusals.some((f) => f.message === 'Rate limit reached: 40000 tokens per minute (the attachments hold more text than was reserved for them).')).toBe(true);
    const used = answered.reduce((sum, f) => sum + Number(f.usage.inputTokens), 0);
    expect(used).toBeLessThanOrEqual(40_000);
    // A document larger than the whole budget can never pass: invalid, not worth a retry.
    const huge = await uploaded(client, 'text/plain', doc(400_000, 9));
    expect(await ask(client, [{ type: 'document', attachmentId: huge }])).toMatchObject({ type: 'error', code: 'invalid_request', retryable: false });
  }, 60_000);

  it('reads an attachment once however often it is referred to, and refuses too many or too large before reading any', async () => {
    await start({ RATE_LIMIT_TOKENS_PER_MINUTE: '1000000' });
    const client = await pool.connect();
    const opens: string[] = [];
    let bodies = 0;
    const open = S3AttachmentStore.prototype.open;
    jest.spyOn(S3AttachmentStore.prototype, 'open').mockImplementation(async function (this: S3AttachmentStore, key: string) {
      opens.push(key);
      const file = await open.call(this, key);
      return file === undefined ? undefined : { ...file, bytes: () => ((bodies += 1), file.bytes()) };
    });
    const image = bigPng();
    const id = await uploaded(client, 'image/png', image);
    const twenty = await ask(client, Array.from({ length: 20 }, () => ({ type: 'image', attachmentId: id })));
    expect(twenty).toMatchObject({ type: 'done' });
    expect(opens).toHaveLength(1);
    expect(bodies).toBe(1);

    // 21 images: refused by their count, before anything is opened.
    opens.length = 0;
    bodies = 0;
    expect(await ask(client, Array.from({ length: 21 }, () => ({ type: 'image', attachmentId: id })))).toMatchObject({
      type: 'error',
      code: 'invalid_request',
      message: 'Invalid request: a request may carry at most 20 images (this one has 21).',
    });
    expect(opens).toHaveLength(0);

    // Four different 3.7 MB images: 14.8 MB, over the 12 MiB a request may carry — no body read.
    const ids = [id, ...(await Promise.all([1, 2, 3].map(() => uploaded(client, 'image/png', bigPng()))))];
    const over = await ask(client, ids.map((attachmentId) => ({ type: 'image', attachmentId })));
    expect(over).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: the attachments add up to 14800000 bytes, more than the 12582912 one request may carry.' });
    expect(opens).toHaveLength(4);
    expect(bodies).toBe(0);
  }, 60_000);
});
