import type { LocalGateway } from '../../src/local/emulator';
import { allMessages, CONVERSATION_AUTH, chunkText, connectAs, lineOf, modelLineOf, NumberedAnswers, one, streamWith, turn } from '../helpers/conversation-turns';
import { STORE_MODES, type StoreMode } from '../helpers/store-modes';
import type { Frame, TestClient } from '../helpers/ws-client';

/**
 * A conversation's turns that replace what it holds, through the emulator in both store modes:
 * `regenerate` gives the last answer again in its place, `editFrom` drops a user message and all
 * after it and sends the new one; a turn naming what it cannot replace is refused and changes nothing.
 */
describe.each(STORE_MODES)('regenerating and editing a conversation kept on the server, %s mode', (_name, makeMode) => {
  const mode: StoreMode = makeMode();
  let local: LocalGateway | undefined;
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const client = await connectAs(local!);
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local?.stop();
    local = undefined;
  });
  afterAll(() => mode.stop());

  /** A conversation with a turn for each question, every answer checked done. */
  async function conversationWith(tab: TestClient, questions: readonly string[]): Promise<string> {
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    for (const question of questions) expect((await turn(tab, conversationId, question)).at(-1)).toMatchObject({ type: 'done' });
    return conversationId;
  }
  const lines = async (tab: TestClient, conversationId: string): Promise<string[]> => (await allMessages(tab, conversationId)).map(lineOf);
  const countOf = async (tab: TestClient, conversationId: string): Promise<number> =>
    ((await one(tab, 'conv/list')).items as Frame[]).find((c) => c.conversationId === conversationId)!.messageCount as number;

  it('regenerate: the last answer is replaced by a new one at a new id, the model reads the history without it, the count unchanged', async () => {
    const model = new NumberedAnswers();
    local = await mode.start(CONVERSATION_AUTH, model);
    const tab = await connect();
    const conversationId = await conversationWith(tab, ['q1', 'q2']);
    expect(await lines(tab, conversationId)).toEqual(['m0 user: q1', 'm1 assistant: answer 1 to q1', 'm2 user: q2', 'm3 assistant: answer 2 to q2']);

    const again = await streamWith(tab, { conversationId, regenerate: true });
    const done = again.at(-1)!;
    expect(done).toMatchObject({ type: 'done', conversation: { conversationId, messageId: 'm4', droppedMessages: 0 } });
    expect(done.conversation.userMessageId).toBeUndefined();
    expect(chunkText(again)).toBe(NumberedAnswers.text(3, 'q2'));
    // The model answered q2 again from the history before the answer it replaces.
    expect(model.requests.at(-1)!.messages.map(modelLineOf)).toEqual(['user: q1', 'assistant: answer 1 to q1', 'user: q2']);

    expect(await lines(tab, conversationId)).toEqual(['m0 user: q1', 'm1 assistant: answer 1 to q1', 'm2 user: q2', 'm4 assistant: answer 3 to q2']);
    expect(await countOf(tab, conversationId)).toBe(4);
    // Twice in a row: still one answer to the last question.
    expect((await streamWith(tab, { conversationId, regenerate: true })).at(-1)).toMatchObject({ type: 'done', conversation: { messageId: 'm5' } });
    expect(await lines(tab, conversationId)).toEqual(['m0 user: q1', 'm1 assistant: answer 1 to q1', 'm2 user: q2', 'm5 assistant: answer 4 to q2']);
    // The next turn reads the regenerated answer as the history.
    expect((await turn(tab, conversationId, 'q3')).at(-1)).toMatchObject({ type: 'done', conversation: { userMessageId: 'm6', messageId: 'm7' } });
    expect(model.requests.at(-1)!.messages.map(modelLineOf)).toEqual(['user: q1', 'assistant: answer 1 to q1', 'user: q2', 'assistant: answer 4 to q2', 'user: q3']);
    expect(await countOf(tab, conversationId)).toBe(6);
  });

  it('editFrom a user message: it and everything after it go, the new message and its answer follow at new ids', async () => {
    const model = new NumberedAnswers();
    local = await mode.start(CONVERSATION_AUTH, model);
    const tab = await connect();
    const conversationId = await conversationWith(tab, ['q1', 'q2', 'q3']);

    const edited = await turn(tab, conversationId, 'q2, said better', { editFrom: 'm2' });
    expect(edited.at(-1)).toMatchObject({ type: 'done', conversation: { conversationId, userMessageId: 'm6', messageId: 'm7', droppedMessages: 0 } });
    expect(chunkText(edited)).toBe(NumberedAnswers.text(4, 'q2, said better'));
    expect(model.requests.at(-1)!.messages.map(modelLineOf)).toEqual(['user: q1', 'assistant: answer 1 to q1', 'user: q2, said better']);
    expect(await lines(tab, conversationId)).toEqual(['m0 user: q1', 'm1 assistant: answer 1 to q1', 'm6 user: q2, said better', 'm7 assistant: answer 4 to q2, said better']);
    expect(await countOf(tab, conversationId)).toBe(4);

    // From the first message: the conversation starts again.
    expect((await turn(tab, conversationId, 'q1 again', { editFrom: 'm0' })).at(-1)).toMatchObject({ type: 'done', conversation: { userMessageId: 'm8', messageId: 'm9' } });
    expect(model.requests.at(-1)!.messages.map(modelLineOf)).toEqual(['user: q1 again']);
    expect(await lines(tab, conversationId)).toEqual(['m8 user: q1 again', 'm9 assistant: answer 5 to q1 again']);
    expect(await countOf(tab, conversationId)).toBe(2);
  });

  it.each([
    ['an assistant message', 'm1'],
    ['a message that was never written', 'm99'],
    ['a message an edit already removed', 'm2'],
  ])('editFrom naming %s: one invalid_request that names it, and the conversation is unchanged and free', async (_what, editFrom) => {
    const model = new NumberedAnswers();
    local = await mode.start(CONVERSATION_AUTH, model);
    const tab = await connect();
    const conversationId = await conversationWith(tab, ['q1', 'q2']);
    // m2 and m3 go: an edit of m2 keeps m0, m1 and adds m4, m5.
    if (editFrom === 'm2') await turn(tab, conversationId, 'q2 edited', { editFrom: 'm2' });
    const before = await lines(tab, conversationId);
    const countBefore = await countOf(tab, conversationId);
    const calls = model.requests.length;

    const refused = await turn(tab, conversationId, 'rewrite it', { editFrom });
    const errors = refused.filter((f) => f.type === 'error');
    expect(errors).toHaveLength(1);
    expect(refused.some((f) => f.type === 'done' || f.type === 'chunk')).toBe(false);
    expect(errors[0]).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(errors[0]!.message).toContain('data.editFrom');
    expect(errors[0]!.message).toContain(`"${editFrom}"`);
    expect(model.requests).toHaveLength(calls);

    expect(await lines(tab, conversationId)).toEqual(before);
    expect(await countOf(tab, conversationId)).toBe(countBefore);
    // Not left busy: the next turn runs, after the same history.
    const next = await turn(tab, conversationId, 'q3');
    expect(next.at(-1)).toMatchObject({ type: 'done' });
    expect(model.requests.at(-1)!.messages.map(modelLineOf).slice(0, -1)).toEqual(before.map((line) => line.replace(/^m\d+ /, '')));
  });

  it('regenerate on a conversation with no message: invalid_request, and the conversation stays empty and free', async () => {
    const model = new NumberedAnswers();
    local = await mode.start(CONVERSATION_AUTH, model);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const refused = (await streamWith(tab, { conversationId, regenerate: true })).at(-1)!;
    expect(refused).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.regenerate: the conversation has no answer to give again.' });
    expect(model.requests).toHaveLength(0);
    expect(await lines(tab, conversationId)).toEqual([]);
    expect(await countOf(tab, conversationId)).toBe(0);
    // (The index the refused turn reserved stays unused: indexes only grow.)
    expect((await turn(tab, conversationId, 'first')).at(-1)).toMatchObject({ type: 'done' });
    expect((await lines(tab, conversationId)).map((line) => line.replace(/^m\d+ /, ''))).toEqual(['user: first', 'assistant: answer 1 to first']);
  });
});
