import WebSocket from 'ws';
import { GatewayClient, GatewayError, type ContentBlock, type Tool } from '../../client/src/index.js';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import type { LocalGateway } from '../../src/local/emulator';
import { MockChatModel, mockAnswerTokens } from '../../src/llm/mock';
import { textOf } from '../../src/models/content';
import { HoldingModel } from '../helpers/browser';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';

/**
 * `client.conversations` and the conversation turns of `stream()`, `chat()` and `runTools()`,
 * against the emulator (auth off: a conversation is its source address's): the client sends only
 * what is new, reads the history back joined, and finds the answer a conversation runs again
 * after a reload, with no resume token.
 */
const TIME: Tool = { name: 'get_time', description: 'The time in a zone', inputSchema: { type: 'object', properties: { zone: { type: 'string', examples: ['UTC'] } }, required: ['zone'] } };
const user = (content: string | ContentBlock[]) => ({ role: 'user' as const, content });

/** A WebSocket that keeps every frame its client sent and received, and can be made to fail every later connection (a page gone for good). */
function recordingSockets(once = false): { Socket: typeof WebSocket; sent: Array<Record<string, unknown>>; received: Array<Record<string, unknown>> } {
  const sent: Array<Record<string, unknown>> = [];
  const received: Array<Record<string, unknown>> = [];
  let made = 0;
  class Socket extends WebSocket {
    constructor(url: string | URL | null) {
      super(once && (made += 1) > 1 ? 'ws://127.0.0.1:9/' : String(url));
      this.on('message', (data: Buffer) => received.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    }
    override send(data: string): void {
      sent.push(JSON.parse(data) as Record<string, unknown>);
      super.send(data);
    }
  }
  return { Socket, sent, received };
}

describe('the client’s conversations kept on the gateway, against the emulator', () => {
  let local: LocalGateway;
  const clients: GatewayClient[] = [];
  const client = (Socket: typeof WebSocket = WebSocket): GatewayClient => {
    const made = new GatewayClient({ url: local.url, WebSocket: Socket, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    clients.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local?.stop();
  });
  /** The page goes away without a word (a reload): its connections are simply gone. */
  const dropAll = async (): Promise<void> => {
    for (const id of local.connectionIds()) await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'DELETE' });
  };

  it('creates, lists, reads, renames and deletes; a turn sends only its message and done says where it was kept; unknown and deleted ids are GatewayError not_found', async () => {
    local = await startLocal({ MOCK_ANSWER_TOKENS: '8' });
    const recorded = recordingSockets();
    const c = client(recorded.Socket);
    const made = await c.conversations.create({ systemPrompt: 'Be brief.' });
    expect(made).toMatchObject({ conversationId: expect.stringMatching(/^c_/) as string, title: '', messageCount: 0 });
    const { conversationId } = made;

    const first = c.stream({ conversationId, message: user('first question') });
    let text = '';
    for await (const delta of first) text += delta;
    expect(text).toBe(mockAnswerTokens('first question', 8).join(''));
    expect((await first.done).conversation).toEqual({ conversationId, userMessageId: 'm0', messageId: 'm1', droppedMessages: 0 });
    const second = await c.chat({ conversationId, message: user('second question') });
    expect(second.content).toBe(mockAnswerTokens('second question', 8).join(''));
    expect(second.conversation).toEqual({ conversationId, userMessageId: 'm2', messageId: 'm3', droppedMessages: 0 });
    // Each turn carried its message alone: no history.
    const turns = recorded.sent.filter((f) => f.action === 'llm/stream' || f.action === 'llm/chat');
    expect(turns.map((f) => f.data)).toEqual([
      { conversationId, message: user('first question') },
      { conversationId, message: user('second question') },
    ]);

    const page = await c.conversations.get(conversationId);
    expect(page.cursor).toBeUndefined();
    expect(page.running).toBeUndefined();
    expect(page.items.map((m) => [m.messageId, m.role])).toEqual([['m0', 'user'], ['m1', 'assistant'], ['m2', 'user'], ['m3', 'assistant']]);
    expect(page.items[0]).toMatchObject({ content: 'first question', requestId: first.requestId });
    expect(page.items[1]).toMatchObject({ status: 'complete', modelId: 'mock.echo-v1', stopReason: 'end_turn', content: [{ type: 'text', text: mockAnswerTokens('first question', 8).join('') }] });
    const newest = await c.conversations.get(conversationId, { order: 'newest', limit: 3 });
    expect(newest.items.map((m) => m.messageId)).toEqual(['m3', 'm2', 'm1']);
    const rest = await c.conversations.get(conversationId, { order: 'newest', limit: 3, cursor: newest.cursor! });
    expect(rest.items.map((m) => m.messageId)).toEqual(['m0']);

    // Titled by its first question; renamed; listed newest first.
    const other = await c.conversations.create({ title: 'Other' });
    let listed = await c.conversations.list();
    expect(listed.items.map((i) => [i.conversationId, i.title, i.messageCount])).toEqual([[other.conversationId, 'Other', 0], [conversationId, 'first question', 4]]);
    expect(await c.conversations.rename(conversationId, 'Renamed')).toMatchObject({ conversationId, title: 'Renamed' });
    const firstPage = await c.conversations.list({ limit: 1 });
    expect(firstPage.items.map((i) => i.conversationId)).toEqual([other.conversationId]);
    expect((await c.conversations.list({ limit: 1, cursor: firstPage.cursor! })).items.map((i) => i.title)).toEqual(['Renamed']);

    await c.conversations.delete(other.conversationId);
    listed = await c.conversations.list();
    expect(listed.items.map((i) => i.conversationId)).toEqual([conversationId]);
    const unknown = `${conversationId.slice(0, -4)}AAAA`;
    for (const refused of [c.conversations.get(other.conversationId), c.conversations.get(unknown), c.conversations.rename(unknown, 'x'), c.conversations.delete(other.conversationId)]) {
      const error = await refused.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ code: 'not_found', retryable: false });
    }
    // A turn of a deleted conversation fails the same way, as a stream.
    await expect(c.stream({ conversationId: other.conversationId, message: user('hello?') }).done).rejects.toMatchObject({ code: 'not_found' });
    await expect(c.conversations.get('not-a-conversation')).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('regenerates the last answer and edits from a user message, with stream() and chat()', async () => {
    let answers = 0;
    const mock = new MockChatModel({ tokenDelayMs: 1, answerTokens: 6 });
    const seen: ChatModelRequest[] = [];
    // Each answer says which it is, so a regenerated one differs.
    const model: ChatModel = {
      async *stream(request, signal): AsyncIterable<ChatModelEvent> {
        seen.push(request);
        answers += 1;
        yield { type: 'delta', text: `answer ${answers}: ` };
        yield* mock.stream(request, signal);
      },
    };
    local = await startLocal({}, { deps: { model } });
    const c = client();
    const { conversationId } = await c.conversations.create();
    await c.chat({ conversationId, message: user('one') });
    await c.chat({ conversationId, message: user('two') });
    const again = c.stream({ conversationId, regenerate: true });
    let text = '';
    for await (const delta of again) text += delta;
    expect(text.startsWith('answer 3: ')).toBe(true);
    const regenerated = (await again.done).conversation!;
    expect(regenerated.userMessageId).toBeUndefined();
    let items = (await c.conversations.get(conversationId)).items;
    expect(items.map((m) => m.messageId)).toEqual(['m0', 'm1', 'm2', regenerated.messageId]);
    expect(JSON.stringify(items.at(-1)!.content)).toContain('answer 3: ');

    const edited = await c.chat({ conversationId, editFrom: 'm2', message: user('two, edited') });
    expect(edited.content.startsWith('answer 4: ')).toBe(true);
    items = (await c.conversations.get(conversationId)).items;
    expect(items.map((m) => m.content).slice(0, 3)).toEqual(['one', expect.anything(), 'two, edited']);
    expect(items).toHaveLength(4);
    // The model read the history up to the edit: one, its answer, the edited question.
    expect(seen.at(-1)!.messages.map((m) => textOf(m.content).split(':')[0])).toEqual(['one', 'answer 1', 'two, edited']);
    await expect(c.chat({ conversationId, editFrom: 'm1', message: user('not a user message') })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('runTools in a conversation sends the question, then only the results of each step’s calls', async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '1' });
    const recorded = recordingSockets();
    const c = client(recorded.Socket);
    const { conversationId } = await c.conversations.create({ tools: [TIME] });
    const run = await c.runTools({ conversationId, message: user('What time is it? Use get_time.') }, { tools: { get_time: () => '12:00:00' } });
    expect(run.steps).toBe(2);
    expect(run.text).toBe('From the tools: get_time returned "12:00:00".');
    const turns = recorded.sent.filter((f) => f.action === 'llm/stream').map((f) => f.data as Record<string, unknown>);
    expect(turns).toHaveLength(2);
    expect(turns[0]).toEqual({ conversationId, message: user('What time is it? Use get_time.') });
    const call = (run.messages[1]!.content as ContentBlock[]).find((b) => b.type === 'tool_use') as Extract<ContentBlock, { type: 'tool_use' }>;
    expect(turns[1]).toEqual({ conversationId, message: user([{ type: 'tool_result', toolUseId: call.toolUseId, content: '12:00:00' }]) });
    // What the loop added: the question, the call, its result, the answer — as the gateway kept it.
    expect(run.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    const kept = (await c.conversations.get(conversationId)).items;
    expect(kept.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(kept[1]!.content).toEqual(expect.arrayContaining([{ type: 'tool_use', toolUseId: call.toolUseId, name: 'get_time', input: { zone: 'UTC' } }]));
    expect(kept[2]!.content).toEqual([{ type: 'tool_result', toolUseId: call.toolUseId, content: '12:00:00' }]);
  });

  it('reads back a message larger than a frame joined: its text whole, a large tool input parsed into its call, nothing omitted', async () => {
    // 2,500 lines: over 150 KB of text, and a tool input as large: each past one 128 KB message.
    const FILE = Array.from({ length: 2500 }, (_, i) => `line ${i}: the quick brown fox jumps over the "lazy" dog\n`).join('');
    const writer: ChatModel = {
      async *stream(): AsyncIterable<ChatModelEvent> {
        for (let i = 0; i < FILE.length; i += 8192) {
          yield { type: 'delta', text: FILE.slice(i, i + 8192) };
          await new Promise((resolve) => setImmediate(resolve));
        }
        const input = JSON.stringify({ path: 'notes.txt', content: FILE });
        for (let i = 0; i < input.length; i += 8192) {
          yield { type: 'tool_delta', toolUseId: 'call-1', name: 'write_file', inputDelta: input.slice(i, i + 8192) };
          await new Promise((resolve) => setImmediate(resolve));
        }
        yield { type: 'end', stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 100_000, totalTokens: 100_010 }, modelId: 'mock.echo-v1' };
      },
    };
    local = await startLocal({}, { deps: { model: writer } });
    const recorded = recordingSockets();
    const c = client(recorded.Socket);
    const tools: Tool[] = [{ name: 'write_file', inputSchema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } } }];
    const { conversationId } = await c.conversations.create({ tools });
    const done = await c.stream({ conversationId, message: user('write notes.txt') }).done;
    expect(done.toolUses).toEqual([{ toolUseId: 'call-1', name: 'write_file', input: { path: 'notes.txt', content: FILE } }]);

    // A page holds whole messages while they fit one frame: the question, then the answer alone.
    const first = await c.conversations.get(conversationId);
    expect(first.items.map((m) => m.messageId)).toEqual(['m0']);
    const page = await c.conversations.get(conversationId, { cursor: first.cursor! });
    expect(page.cursor).toBeUndefined();
    expect(page.items.map((m) => m.messageId)).toEqual(['m1']);
    expect(page.items[0]!.content).toEqual([
      { type: 'text', text: FILE },
      { type: 'tool_use', toolUseId: 'call-1', name: 'write_file', input: { path: 'notes.txt', content: FILE } },
    ]);
    // It did come in parts: the gateway answered this conv/get with several frames.
    const get = recorded.sent.filter((f) => f.action === 'conv/get').at(-1)!;
    expect(get.data).toEqual({ conversationId, cursor: first.cursor });
    const parts = recorded.received.filter((f) => f.requestId === get.requestId);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.map((f) => [f.type, f.part, f.parts])).toEqual(parts.map((_, i) => ['messages', i, parts.length]));
    expect(JSON.stringify(parts)).toContain('"inputOmitted":true');
    // The newest alone is the same message, joined the same way.
    expect((await c.conversations.get(conversationId, { order: 'newest', limit: 1 })).items[0]!.content).toEqual(page.items[0]!.content);
  }, 30_000);

  it('refuses a second turn while the conversation answers with GatewayError conversation_busy (retryable)', async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '40' });
    const c = client();
    const { conversationId } = await c.conversations.create();
    const first = c.stream({ conversationId, message: user('slow one') });
    const events = first[Symbol.asyncIterator]();
    await events.next();
    const busy = await c.chat({ conversationId, message: user('meanwhile') }).then(() => undefined, (e: unknown) => e);
    expect(busy).toBeInstanceOf(GatewayError);
    expect(busy).toMatchObject({ code: 'conversation_busy', retryable: true, retryAfterMs: 1000 });
    expect((await c.conversations.get(conversationId)).running).toEqual({ requestId: first.requestId });
    await first.done;
    expect((await c.conversations.get(conversationId)).running).toBeUndefined();
  });

  describe('the answer a conversation runs, after a reload (no resume token)', () => {
    let model: HoldingModel;
    /** A page starts a turn, reads some of it, and goes away for good; the answer goes on on the gateway. */
    const startThenLeave = async (prompt: string): Promise<{ conversationId: string; requestId: string; head: string }> => {
      const page = client(recordingSockets(true).Socket);
      const { conversationId } = await page.conversations.create();
      model.holdAfter(10);
      const stream = page.stream({ conversationId, message: user(prompt) });
      await until(() => model.holding, 'the answer to reach the hold', 10_000);
      await dropAll();
      await page.close();
      return { conversationId, requestId: stream.requestId, head: mockAnswerTokens(prompt, 30).slice(0, 10).join('') };
    };
    beforeEach(async () => {
      model = new HoldingModel({ tokenDelayMs: 2, answerTokens: 30 });
      local = await startLocal({ RESUME_GRACE_SECONDS: '30', STREAM_FLUSH_INTERVAL_MS: '0' }, { deps: { model } });
    });
    afterEach(() => model.release());

    it('conversations.resume() finds it with conv/get and resumes it by the conversation: the whole answer, once; then null', async () => {
      const { conversationId, requestId } = await startThenLeave('resume me by conversation');
      const reloaded = client(recordingSockets().Socket);
      const page = await reloaded.conversations.get(conversationId, { order: 'newest', limit: 1 });
      expect(page.running).toEqual({ requestId });
      // Kept before the model was called: the question, not yet the answer.
      expect(page.items.map((m) => [m.messageId, m.content])).toEqual([['m0', 'resume me by conversation']]);
      const resumes: number[] = [];
      const stream = await reloaded.conversations.resume(conversationId, { onResumed: (fromSeq) => resumes.push(fromSeq) });
      expect(stream?.requestId).toBe(requestId);
      let text = '';
      let released = false;
      for await (const delta of stream!) {
        text += delta;
        if (!released) {
          released = true;
          model.release();
        }
      }
      expect(text).toBe(mockAnswerTokens('resume me by conversation', 30).join(''));
      expect(resumes).toEqual([0]);
      expect((await stream!.done).conversation).toMatchObject({ conversationId, messageId: 'm1' });
      expect(model.requests).toHaveLength(1);
      expect(await reloaded.conversations.resume(conversationId)).toBeNull();
      expect((await reloaded.conversations.get(conversationId)).items.map((m) => m.messageId)).toEqual(['m0', 'm1']);
    });

    it('from a fromSeq, only the rest; the resume frame names the conversation, never a token', async () => {
      const { conversationId, head } = await startThenLeave('from the middle');
      const recorded = recordingSockets();
      const reloaded = client(recorded.Socket);
      const stream = (await reloaded.conversations.resume(conversationId, { fromSeq: 4 }))!;
      const first = await stream[Symbol.asyncIterator]().next();
      model.release();
      let text = String(first.value);
      for await (const delta of stream) text += delta;
      const whole = mockAnswerTokens('from the middle', 30).join('');
      expect(whole.endsWith(text)).toBe(true);
      expect(head.startsWith(whole.slice(0, whole.length - text.length))).toBe(true);
      expect(text.length).toBeLessThan(whole.length);
      expect(recorded.sent.find((f) => f.action === 'llm/resume')).toEqual({ action: 'llm/resume', requestId: stream.requestId, data: { conversationId, fromSeq: 4 } });
    });

    it('a resumed answer’s abort cancels it by the conversation; conversations.cancel() stops one from any client of its owner', async () => {
      const { conversationId } = await startThenLeave('stop me');
      const recorded = recordingSockets();
      const reloaded = client(recorded.Socket);
      const controller = new AbortController();
      const stream = (await reloaded.conversations.resume(conversationId, { signal: controller.signal }))!;
      await stream[Symbol.asyncIterator]().next();
      controller.abort();
      await expect(stream.done).rejects.toMatchObject({ code: 'cancelled' });
      expect(recorded.sent.find((f) => f.action === 'llm/cancel')).toEqual({ action: 'llm/cancel', requestId: stream.requestId, data: { conversationId } });
      await until(async () => (await reloaded.conversations.get(conversationId)).running === undefined, 'the answer to end', 10_000);
      expect((await reloaded.conversations.get(conversationId)).items[1]).toMatchObject({ role: 'assistant', status: 'cancelled' });

      // Another turn, left running by a page gone; a new client stops it without resuming it.
      model.release();
      const second = await startThenLeave('stop me too');
      const other = client();
      expect(await other.conversations.cancel(second.conversationId)).toBe(true);
      await until(async () => (await other.conversations.get(second.conversationId)).running === undefined, 'the answer to end', 10_000);
      expect((await other.conversations.get(second.conversationId)).items[1]).toMatchObject({ status: 'cancelled' });
      expect(await other.conversations.cancel(second.conversationId)).toBe(false);
    });
  });
});
