import { askUpload, pdf, png, put, uploaded } from '../helpers/attachments';
import type { BedrockEmulator } from '../helpers/bedrock-emulator';
import type { OpenAiStandIn } from '../helpers/openai-standin';
import { NOVA, startTwoProviders, type TwoProviders } from '../helpers/two-providers';
import type { Frame, TestClient } from '../helpers/ws-client';

/**
 * Attachments as each provider receives them, through the gateway and the real SDKs against
 * their wire-level stand-ins: the bytes uploaded to the emulator's S3 reach the model request in
 * the provider's own shape, and each provider's limits and unreadable kinds are clear refusals.
 */
describe('attachments on Bedrock and an OpenAI-compatible server', () => {
  let bedrock: BedrockEmulator;
  let server: OpenAiStandIn;
  let client: TestClient;
  let both: TwoProviders;

  beforeAll(async () => {
    both = await startTwoProviders('');
    ({ bedrock, server, client } = both);
  });
  afterAll(() => both.stop());
  beforeEach(() => {
    bedrock.requests.length = 0;
    server.requests.length = 0;
    bedrock.scenario = () => ({ kind: 'stream', tokens: ['seen'] });
    server.scenario = () => ({ kind: 'stream', tokens: ['seen'] });
  });

  let counter = 0;
  async function ask(modelId: string, content: unknown[]): Promise<Frame> {
    const requestId = `pa-${(counter += 1)}`;
    client.send({ action: 'llm/stream', requestId, data: { modelId, messages: [{ role: 'user', content }] } });
    return client.terminal(requestId, 10_000);
  }

  it('Bedrock: image and document blocks with the uploaded bytes, formats, and Bedrock-safe unique names', async () => {
    const image = png();
    const imageId = await uploaded(client, 'image/png', image);
    const docA = await uploaded(client, 'application/pdf', pdf());
    const docB = await uploaded(client, 'text/csv', Buffer.from('a,b\n1,2\n'));
    const end = await ask(NOVA, [
      { type: 'text', text: 'compare' },
      { type: 'image', attachmentId: imageId },
      { type: 'document', attachmentId: docA, name: 'Q3 report: final!.pdf' },
      { type: 'document', attachmentId: docB, name: 'Q3 report final.csv' },
    ]);
    expect(end).toMatchObject({ type: 'done' });
    const content = bedrock.requests[0]!.body.messages![0]!.content;
    expect(content).toEqual([
      { text: 'compare' },
      { image: { format: 'png', source: { bytes: image.toString('base64') } } },
      { document: { format: 'pdf', name: 'Q3 report final', source: { bytes: pdf().toString('base64') } } },
      { document: { format: 'csv', name: 'Q3 report final (2)', source: { bytes: Buffer.from('a,b\n1,2\n').toString('base64') } } },
    ]);
  });

  it('Bedrock: more than 5 documents is a clear invalid_request before the call; a model that cannot read images says which kind', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => uploaded(client, 'text/plain', Buffer.from('hello there'))));
    const tooMany = await ask(NOVA, ids.map((attachmentId) => ({ type: 'document', attachmentId })));
    expect(tooMany).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: a request may carry at most 5 documents (this one has 6).' });
    expect(bedrock.requests).toHaveLength(0);
    bedrock.scenario = () => ({ kind: 'http-error', status: 400, errorType: 'ValidationException', message: "This model doesn't support the image content block that you provided." });
    const refused = await ask(NOVA, [{ type: 'image', mediaType: 'image/png', data: png().toString('base64') }]);
    expect(refused).toMatchObject({ type: 'error', code: 'invalid_request', message: `The model "${NOVA}" cannot read images on Amazon Bedrock: send text only, or pick a model that reads them.` });
  });

  it('OpenAI: an image as an image_url data URL, a PDF as a file part, a text document as text; Word refused', async () => {
    const imageId = await uploaded(client, 'image/png', png());
    const pdfId = await uploaded(client, 'application/pdf', pdf());
    const notesId = await uploaded(client, 'text/markdown', Buffer.from('# Notes\nship it'));
    const end = await ask('gpt-test', [
      { type: 'text', text: 'look' },
      { type: 'image', attachmentId: imageId },
      { type: 'document', attachmentId: pdfId, name: 'spec.pdf' },
      { type: 'document', attachmentId: notesId, name: 'notes.md' },
    ]);
    expect({ end: end.type, message: end.message as unknown }).toEqual({ end: 'done', message: undefined });
    expect(server.requests[0]!.body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png().toString('base64')}` } },
          { type: 'file', file: { filename: 'spec.pdf', file_data: `data:application/pdf;base64,${pdf().toString('base64')}` } },
          { type: 'text', text: 'Document "notes.md":\n# Notes\nship it' },
        ],
      },
    ]);
    const docx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(40)]);
    const wordId = await uploaded(client, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', docx);
    const word = await ask('gpt-test', [{ type: 'document', attachmentId: wordId, name: 'letter.docx' }]);
    expect(word).toMatchObject({ type: 'error', code: 'invalid_request', message: expect.stringContaining('cannot read application/vnd.openxmlformats-officedocument.wordprocessingml.document documents') as string });
  });

  it('an upload URL is refused for a file larger than declared (the size is signed)', async () => {
    const upload = await askUpload(client, 'image/png', 10);
    expect((await put(upload, png())).status).toBe(403);
  });
});
