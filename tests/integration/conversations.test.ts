import type { LocalGateway } from '../../src/local/emulator';
import type { ChatModel, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel, mockAnswerTokens } from '../../src/llm/mock';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { STORE_MODES, type StoreMode } from '../helpers/store-modes';
import { ask, nextId, one, textOf, turn } from '../helpers/conversation-frames';
import { TestClient, type Frame } from '../helpers/ws-client';

/**
 * Conversations kept on the server, through the emulator in both store modes: a client sends
 * only what is new and the gateway keeps the history, for its owner alone.
 */
const AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '8' };

describe.each(STORE_MODES)('conversations kept on the server, %s mode', (_name, makeMode) => {
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

  it('keeps five turns that each sent only the new message; lists and returns them in order with usage; goes on after a reload', async () => {
    const seen: ChatModelRequest[] = [];
    const mock = new MockChatModel({ tokenDelayMs: 1, answerTokens: 8 });
    const model: ChatModel = { stream: (request, signal) => (seen.push(request), mock.stream(request, signal)) };
    local = await mode.start(AUTH, model);
    const tab = await connect();
    const created = await one(tab, 'conv/create', { systemPrompt: 'Be brief.' });
    expect(created).toMatchObject({ type: 'conversation', conversation: { title: '', messageCount: 0 } });
    const conversationId = String(created.conversation.conversationId);
    expect(conversationId).toMatch(/^c_[0-9a-z]{9}[A-Za-z0-9_-]{16}$/);
    for (let i = 1; i <= 5; i += 1) {
      const frames = await turn(tab, conversationId, `question ${i}`);
      const done = frames.at(-1)!;
      expect(done).toMatchObject({ type: 'done', conversation: { conversationId, userMessageId: `m${2 * (i - 1)}`, messageId: `m${2 * i - 1}`, droppedMessages: 0 } });
      // The mock echoes the last user message: the model got the new turn, after the whole history.
      expect(textOf(frames)).toBe(mockAnswerTokens(`question ${i}`, 8).join(''));
      const request = seen.at(-1)!;
      expect(request.systemPrompt).toBe('Be brief.');
      expect(request.messages.map((m) => [m.role, typeof m.content === 'string' ? m.content : 'blocks'])).toEqual(
        Array.from({ length: 2 * i - 1 }, (_, k) => (k % 2 === 0 ? ['user', `question ${k / 2 + 1}`] : ['assistant', 'blocks'])),
      );
    }
    const listed = await one(tab, 'conv/list');
    expect(listed).toMatchObject({ type: 'conversations', items: [{ conversationId, messageCount: 10, lastModelId: 'mock.echo-v1' }] });
    expect(listed.items[0].running).toBeUndefined();

    // A reload: a new connection reads the conversation back, then the next turn goes on from it.
    const reloaded = await connect();
    const page = await one(reloaded, 'conv/get', { conversationId });
    expect(page.type).toBe('messages');
    expect(page.items.map((m: Frame) => [m.messageId, m.role])).toEqual(Array.from({ length: 10 }, (_, i) => [`m${i}`, i % 2 === 0 ? 'user' : 'assistant']));
    expect(page.items[0]).toMatchObject({ content: 'question 1' });
    expect(page.items[1]).toMatchObject({ status: 'complete', modelId: 'mock.echo-v1', stopReason: 'end_turn', content: [{ type: 'text', text: mockAnswerTokens('question 1', 8).join('') }] });
    expect(page.items[1].usage).toMatchObject({ outputTokens: 8 });
    const next = await turn(reloaded, conversationId, 'question 6');
    expect(next.at(-1)).toMatchObject({ type: 'done', conversation: { messageId: 'm11' } });
    const newest = await one(reloaded, 'conv/get', { conversationId, order: 'newest', limit: 2 });
    expect(newest.items.map((m: Frame) => m.messageId)).toEqual(['m11', 'm10']);
    expect(newest.cursor).toBe('10');
  });

  it('answers an unknown id and another user’s the same way, and keeps everything of a conversation from another user', async () => {
    local = await mode.start(AUTH);
    const alice = await connect('alice');
    const bob = await connect('bob');
    const conversationId = String((await one(alice, 'conv/create', { title: 'Private' })).conversation.conversationId);
    await turn(alice, conversationId, 'my secret');
    const unknown = conversationId.slice(0, -4) + 'AAAA';
    for (const id of [conversationId, unknown]) {
      const refusals = [
        await one(bob, 'conv/get', { conversationId: id }),
        await one(bob, 'conv/rename', { conversationId: id, title: 'mine' }),
        await one(bob, 'conv/delete', { conversationId: id }),
        (await turn(bob, id, 'hello')).at(-1)!,
      ];
      for (const refusal of refusals) expect(refusal).toMatchObject({ type: 'error', code: 'not_found', retryable: false, message: `Conversation "${id}" does not exist (or is not yours).` });
    }
    expect((await one(bob, 'conv/list')).items).toEqual([]);
    expect((await one(alice, 'conv/get', { conversationId })).items).toHaveLength(2);
  });

  it('runs one answer at a time per conversation: a second send meanwhile is refused, not queued', async () => {
    local = await mode.start({ ...AUTH, MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '40' });
    const tab = await connect();
    const other = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const first = turn(tab, conversationId, 'slow one');
    await tab.waitFor((frames) => frames.some((f) => f.type === 'chunk'), 5000, 'the first answer streaming');
    const second = (await turn(other, conversationId, 'meanwhile')).at(-1)!;
    expect(second).toMatchObject({ type: 'error', code: 'conversation_busy', retryable: true });
    const listed = await one(other, 'conv/get', { conversationId });
    expect(listed.running).toEqual({ requestId: expect.any(String) });
    expect((await first).at(-1)).toMatchObject({ type: 'done' });
    // Free again the moment it ended.
    expect((await turn(other, conversationId, 'now')).at(-1)).toMatchObject({ type: 'done' });
    expect((await one(other, 'conv/get', { conversationId })).items.map((m: Frame) => m.content)).toEqual(expect.arrayContaining(['slow one', 'now']));
  });

  it('keeps the part of an answer cancelled mid-stream, once, marked cancelled', async () => {
    local = await mode.start({ ...AUTH, MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '200' });
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const requestId = nextId('cancel');
    tab.send({ action: 'llm/stream', requestId, data: { conversationId, message: { role: 'user', content: 'long answer please' } } });
    await tab.waitFor((frames) => frames.filter((f) => f.requestId === requestId && f.type === 'chunk').length >= 2, 5000, 'two chunks');
    tab.send({ action: 'llm/cancel', requestId });
    const end = await tab.terminal(requestId, 10_000);
    expect(end).toMatchObject({ type: 'error', code: 'cancelled' });
    const sent = tab.of(requestId).filter((f) => f.type === 'chunk').map((f) => String(f.content)).join('');
    const page = await one(tab, 'conv/get', { conversationId });
    expect(page.items).toHaveLength(2);
    expect(page.items[1]).toMatchObject({ role: 'assistant', status: 'cancelled', stopReason: 'cancelled' });
    // What was kept is what the client was sent: all of it, nothing more.
    const kept = page.items[1].content.map((b: Frame) => b.text).join('');
    expect(kept).toBe(sent);
    expect(kept.length).toBeGreaterThan(0);
    // The next turn reads a history that holds the cut answer.
    expect((await turn(tab, conversationId, 'go on')).at(-1)).toMatchObject({ type: 'done' });
  });

  it('checks a turn against the history: tool results answer exactly the last answer’s calls', async () => {
    local = await mode.start(AUTH);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const stray = (await turn(tab, conversationId, 'x', { message: { role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: 'r' }] } })).at(-1)!;
    expect(stray).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data.message has a tool_result for "t1", which answers no call of the conversation\'s last answer.' });
    // A refused turn gave the conversation back: the next one runs.
    expect((await turn(tab, conversationId, 'hello')).at(-1)).toMatchObject({ type: 'done' });
    const both = (await ask(tab, 'llm/stream', { conversationId, message: { role: 'user', content: 'x' }, messages: [{ role: 'user', content: 'x' }] }, (f) => f.type === 'done')).at(-1)!;
    expect(both).toMatchObject({ type: 'error', code: 'invalid_request' });
    expect(both.message).toContain('not data.messages');
  });

  it('deletes a conversation with its messages: it can then neither be read nor continued', async () => {
    local = await mode.start(AUTH);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    await turn(tab, conversationId, 'hello');
    expect(await one(tab, 'conv/delete', { conversationId })).toEqual({ type: 'deleted', requestId: expect.any(String), conversationId });
    expect(await one(tab, 'conv/get', { conversationId })).toMatchObject({ type: 'error', code: 'not_found' });
    expect((await turn(tab, conversationId, 'again')).at(-1)).toMatchObject({ type: 'error', code: 'not_found' });
    expect((await one(tab, 'conv/list')).items).toEqual([]);
  });
});
