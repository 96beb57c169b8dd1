import type { LocalGateway } from '../../src/local/emulator';
import type { ChatModel, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel } from '../../src/llm/mock';
import { png, uploaded } from '../helpers/attachments';
import { one, turn } from '../helpers/conversation-frames';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { STORE_MODES, type StoreMode } from '../helpers/store-modes';
import { TestClient } from '../helpers/ws-client';

/**
 * A conversation's attachments live as long as the messages that refer to them, in the
 * emulator's S3 (the same REST calls the SDK makes on AWS): kept under the conversation when the
 * message is kept (the upload itself still expires), read from there by every later turn, and
 * deleted with the conversation or the edit that removes their message. Plus the per-user bytes.
 */
const AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '8' };

describe.each(STORE_MODES)('a conversation’s attachments and bytes, %s mode', (_name, makeMode) => {
  const mode: StoreMode = makeMode();
  let local: LocalGateway | undefined;
  const clients: TestClient[] = [];
  const connect = async (sub = 'alice'): Promise<TestClient> => {
    const client = await TestClient.connect(`${local!.url}?token=${await hs256(claims({ sub }))}`);
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local?.stop();
    local = undefined;
  });
  afterAll(() => mode.stop());
  const keys = (): string[] => local!.s3.keys();

  it('keeps an attachment with its message, reads it there in later turns, and deletes it with the conversation', async () => {
    const seen: ChatModelRequest[] = [];
    const mock = new MockChatModel({ tokenDelayMs: 1, answerTokens: 8 });
    const model: ChatModel = { stream: (request, signal) => (seen.push(request), mock.stream(request, signal)) };
    local = await mode.start(AUTH, model);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const attachmentId = await uploaded(tab, 'image/png', png());
    const first = await turn(tab, conversationId, 'x', { message: { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image', attachmentId }] } });
    expect(first.at(-1)).toMatchObject({ type: 'done' });
    const kept = keys().filter((key) => key.startsWith('kept/'));
    expect(kept).toEqual([expect.stringMatching(new RegExp(`^kept/[0-9a-f]{32}/${conversationId}/${attachmentId}$`))]);
    // The upload expires by its own rule; the conversation's copy is what later turns read.
    local.s3.removeForTest(keys().find((key) => key.startsWith('uploads/'))!);
    expect((await turn(tab, conversationId, 'and now?')).at(-1)).toMatchObject({ type: 'done' });
    const images = seen[1]!.messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content.filter((b) => b.type === 'image')));
    expect(images).toHaveLength(1);
    expect(Buffer.from((images[0] as { bytes: Uint8Array }).bytes)).toEqual(png());
    // A message naming an unknown attachment is refused before anything of it is written.
    const unknown = (await turn(tab, conversationId, 'x', { message: { role: 'user', content: [{ type: 'image', attachmentId: 'att_AAAAAAAAAAAAAAAAAAAAAA' }] } })).at(-1)!;
    expect(unknown).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.message: unknown attachment "att_AAAAAAAAAAAAAAAAAAAAAA".' });
    expect((await one(tab, 'conv/get', { conversationId })).items).toHaveLength(4);
    expect(await one(tab, 'conv/delete', { conversationId })).toMatchObject({ type: 'deleted' });
    expect(keys().filter((key) => key.startsWith('kept/'))).toEqual([]);
  });

  it('an edit that removes the only message referring to an attachment removes it; one still referred to stays', async () => {
    local = await mode.start(AUTH);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const a = await uploaded(tab, 'image/png', png());
    const b = await uploaded(tab, 'image/png', png());
    await turn(tab, conversationId, 'x', { message: { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'image', attachmentId: a }] } });
    await turn(tab, conversationId, 'x', { message: { role: 'user', content: [{ type: 'text', text: 'two' }, { type: 'image', attachmentId: b }] } });
    expect(keys().filter((key) => key.startsWith('kept/'))).toHaveLength(2);
    // Edit the second question, keeping a: b is referred to by nothing now.
    const edited = (await turn(tab, conversationId, 'x', { editFrom: 'm2', message: { role: 'user', content: [{ type: 'text', text: 'two again' }, { type: 'image', attachmentId: a }] } })).at(-1)!;
    expect(edited).toMatchObject({ type: 'done' });
    expect(keys().filter((key) => key.startsWith('kept/')).map((key) => key.split('/').at(-1))).toEqual([a]);
  });

  it('refuses a turn past the user’s bytes, until a conversation is deleted', async () => {
    local = await mode.start({ ...AUTH, MAX_CONVERSATION_BYTES_PER_USER: '600' });
    const tab = await connect();
    const first = String((await one(tab, 'conv/create')).conversation.conversationId);
    expect((await turn(tab, first, 'q'.repeat(300))).at(-1)).toMatchObject({ type: 'done' });
    const refused = (await turn(tab, first, 'r'.repeat(300))).at(-1)!;
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', retryable: false });
    expect(refused.message).toContain('600 bytes');
    // Refused before anything was written, and the conversation is free.
    expect((await one(tab, 'conv/get', { conversationId: first })).items).toHaveLength(2);
    const other = await connect('bob');
    const bobs = String((await one(other, 'conv/create')).conversation.conversationId);
    expect((await turn(other, bobs, 'b'.repeat(300))).at(-1)).toMatchObject({ type: 'done' });
    await one(tab, 'conv/delete', { conversationId: first });
    const second = String((await one(tab, 'conv/create')).conversation.conversationId);
    expect((await turn(tab, second, 'r'.repeat(300))).at(-1)).toMatchObject({ type: 'done' });
  });
});
