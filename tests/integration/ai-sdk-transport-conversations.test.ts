import WebSocket from 'ws';
import { readUIMessageStream, uiMessageChunkSchema, type UIMessage } from 'ai';
import { GatewayClient } from '../../client/src/index.js';
import { GatewayChatTransport, loadMessages, toGatewayRequest, type Chunk, type InFlight, type ResumeStore, type UiMessage } from '../../client/src/ai-sdk/index.js';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { HoldingModel } from '../helpers/browser';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';

/**
 * GatewayChatTransport over conversations kept on the gateway (`conversations: true`: the chat id
 * is the conversation's), against the emulator, read by the AI SDK's own readUIMessageStream: a
 * send carries only the new message, regenerate and edit map to the gateway's turn, the history
 * loads back as UI messages, and a reload's reconnectToStream finds the running answer on the
 * gateway — nothing kept in the page.
 */
const TIME = { name: 'get_time', inputSchema: { type: 'object' as const, properties: { zone: { type: 'string', examples: ['UTC'] } }, required: ['zone'] } };
const user = (id: string, text: string): UiMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

/** The frames a client sent (and received), and optionally every later connection failing (a page gone for good). */
function recordingSockets(once = false): { Socket: typeof WebSocket; sent: Array<Record<string, unknown>> } {
  const sent: Array<Record<string, unknown>> = [];
  let made = 0;
  class Socket extends WebSocket {
    constructor(url: string | URL | null) {
      super(once && (made += 1) > 1 ? 'ws://127.0.0.1:9/' : String(url));
    }
    override send(data: string): void {
      sent.push(JSON.parse(data) as Record<string, unknown>);
      super.send(data);
    }
  }
  return { Socket, sent };
}

/** A resume store that fails the test if the transport keeps anything in it. */
const untouchedStore = (): ResumeStore => ({
  get: () => undefined,
  set: (id: string, value: InFlight) => {
    throw new Error(`the transport kept ${JSON.stringify(value)} for ${id}`);
  },
  delete: () => undefined,
});

/** Reads a chunk stream as useChat would (every chunk valid for ai 7), continuing `last` when it is the message continued. */
async function read(stream: ReadableStream<Chunk>, last?: UIMessage): Promise<UIMessage> {
  const [mine, theirs] = stream.tee();
  const checking = (async () => {
    for await (const chunk of mine as unknown as AsyncIterable<Chunk>) {
      const checked = await uiMessageChunkSchema().validate!(chunk);
      if (!checked.success) throw new Error(`chunk ${JSON.stringify(chunk)} does not validate`);
    }
  })();
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: theirs, ...(last ? { message: last } : {}) })) message = m;
  await checking;
  return message!;
}
const turnsSent = (sent: Array<Record<string, unknown>>) => sent.filter((f) => f.action === 'llm/stream').map((f) => f.data as Record<string, unknown>);
const textOf = (message: UIMessage | UiMessage): string => message.parts.flatMap((p) => (p.type === 'text' ? [(p as { text: string }).text] : [])).join('');

describe('GatewayChatTransport with conversations kept on the gateway, against the emulator', () => {
  let local: LocalGateway;
  const clients: GatewayClient[] = [];
  const client = (Socket: typeof WebSocket = WebSocket): GatewayClient => {
    const made = new GatewayClient({ url: local.url, WebSocket: Socket });
    clients.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local.stop();
  });

  it('sends only the new message each time; regenerate() is regenerate: true; an edit is editFrom; loadMessages gives the history back as UI messages', async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '8' });
    const recorded = recordingSockets();
    const c = client(recorded.Socket);
    const transport = new GatewayChatTransport({ client: c, conversations: true, resumeStore: untouchedStore(), smooth: false, defaults: { inferenceConfig: { maxTokens: 100 } } });
    const { conversationId } = await c.conversations.create();
    const send = (messages: UiMessage[], extra: { trigger?: 'submit-message' | 'regenerate-message'; messageId?: string } = {}) =>
      transport.sendMessages({ trigger: extra.trigger ?? 'submit-message', chatId: conversationId, messageId: extra.messageId, messages, abortSignal: undefined });

    const messages: UiMessage[] = [user('u1', 'first question')];
    const a1 = await read(await send(messages));
    expect(textOf(a1)).toBe(mockAnswerTokens('first question', 8).join(''));
    expect(a1.metadata).toMatchObject({ conversation: { conversationId, userMessageId: 'm0', messageId: 'm1' } });
    messages.push(a1, user('u2', 'second question'));
    const a2 = await read(await send(messages));
    expect(textOf(a2)).toBe(mockAnswerTokens('second question', 8).join(''));
    expect(turnsSent(recorded.sent)).toEqual([
      { conversationId, message: { role: 'user', content: 'first question' }, inferenceConfig: { maxTokens: 100 } },
      { conversationId, message: { role: 'user', content: 'second question' }, inferenceConfig: { maxTokens: 100 } },
    ]);

    // useChat's regenerate(): the last answer dropped from the page, the transport asked again.
    const regenerated = await read(await send(messages.slice(0, 3), { trigger: 'regenerate-message' }));
    expect(turnsSent(recorded.sent).at(-1)).toEqual({ conversationId, regenerate: true, inferenceConfig: { maxTokens: 100 } });
    expect(textOf(regenerated)).toBe(mockAnswerTokens('second question', 8).join(''));
    // An edit of the first question (sendMessage({ text, messageId: 'u1' })): the page keeps it alone, reworded.
    const edited = await read(await send([user('u1', 'first, reworded')], { messageId: 'u1' }));
    expect(turnsSent(recorded.sent).at(-1)).toEqual({ conversationId, editFrom: 'm0', message: { role: 'user', content: 'first, reworded' }, inferenceConfig: { maxTokens: 100 } });
    expect(textOf(edited)).toBe(mockAnswerTokens('first, reworded', 8).join(''));

    // A reload: the history from the gateway, in the shape useChat shows — and the transport's request shape again.
    const loaded = await loadMessages(transport, conversationId);
    const kept = (await c.conversations.get(conversationId)).items.map((m) => m.messageId);
    expect(loaded.map((m) => [m.id, m.role, textOf(m)])).toEqual([
      [kept[0], 'user', 'first, reworded'],
      [kept[1], 'assistant', mockAnswerTokens('first, reworded', 8).join('')],
    ]);
    expect(loaded[1]!.parts[0]).toEqual({ type: 'step-start' });
    expect(loaded[1]!.metadata).toMatchObject({ messageId: kept[1], status: 'complete', modelId: 'mock.echo-v1', stopReason: 'end_turn' });
    // An edit of a loaded message names it by its kept id; an earlier answer regenerated asks its question again.
    await read(await send([...loaded, user('u3', 'third')]));
    const again = await loadMessages(c, conversationId);
    await read(await send(again.slice(0, 1), { trigger: 'regenerate-message', messageId: again[1]!.id }));
    expect(turnsSent(recorded.sent).at(-1)).toEqual({ conversationId, editFrom: again[0]!.id, message: { role: 'user', content: 'first, reworded' }, inferenceConfig: { maxTokens: 100 } });
    expect((await loadMessages(c, conversationId)).map((m) => textOf(m))).toEqual(['first, reworded', mockAnswerTokens('first, reworded', 8).join('')]);
  });

  it('a tool loop: the call streams into the UI message, the page’s output goes back as the tool results alone, and the answer continues the same message; loaded, it is one message of two steps', async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '1' });
    const recorded = recordingSockets();
    const c = client(recorded.Socket);
    const transport = new GatewayChatTransport({ client: c, conversations: true, resumeStore: untouchedStore(), smooth: false });
    const { conversationId } = await c.conversations.create({ tools: [TIME] });
    const send = (messages: UiMessage[]) => transport.sendMessages({ trigger: 'submit-message', chatId: conversationId, messageId: undefined, messages, abortSignal: undefined });
    const question = user('u1', 'What time is it? Use get_time.');
    const step1 = await read(await send([question]));
    const call = step1.parts.find((p) => p.type === 'tool-get_time') as { toolCallId: string; state: string; input: unknown };
    expect(call).toMatchObject({ state: 'input-available', input: { zone: 'UTC' } });
    // What addToolOutput does, then sendAutomaticallyWhen sends the conversation on.
    const answered = { ...step1, parts: step1.parts.map((p) => (p.type === 'tool-get_time' ? { ...p, state: 'output-available', output: '12:00:00' } : p)) } as UIMessage;
    const step2 = await read(await send([question, answered]), answered);
    expect(step2.id).toBe(step1.id);
    expect(textOf(step2)).toBe('Calling get_time. From the tools: get_time returned "12:00:00".');
    expect(turnsSent(recorded.sent).at(-1)).toEqual({ conversationId, message: { role: 'user', content: [{ type: 'tool_result', toolUseId: call.toolCallId, content: '12:00:00' }] } });

    const loaded = await loadMessages(c, conversationId);
    expect(loaded.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(loaded[1]!.id).toBe('m1');
    expect(loaded[1]!.parts).toEqual([
      { type: 'step-start' },
      { type: 'text', text: 'Calling get_time. ', state: 'done' },
      { type: 'tool-get_time', toolCallId: call.toolCallId, state: 'output-available', input: { zone: 'UTC' }, output: '12:00:00' },
      { type: 'step-start' },
      { type: 'text', text: 'From the tools: get_time returned "12:00:00".', state: 'done' },
    ]);
    // The same conversation as the stateless transport would send it: the gateway's history, turn for turn.
    // (A message of one text block is sent as its string.)
    const history = (await c.conversations.get(conversationId)).items.map((m) => ({ role: m.role, content: typeof m.content !== 'string' && m.content.length === 1 && m.content[0]!.type === 'text' ? m.content[0]!.text : m.content }));
    expect((await toGatewayRequest(loaded, () => Promise.reject(new Error('no files')))).messages).toEqual(history);
  });

  describe('after a reload', () => {
    let model: HoldingModel;
    beforeEach(async () => {
      model = new HoldingModel({ tokenDelayMs: 2, answerTokens: 30 });
      local = await startLocal({ RESUME_GRACE_SECONDS: '30', STREAM_FLUSH_INTERVAL_MS: '0' }, { deps: { model } });
    });
    afterEach(() => model.release());

    it('reconnectToStream asks the gateway for the conversation’s running answer and streams it whole; null when it runs none; nothing kept in the page', async () => {
      const page1 = new GatewayChatTransport({ client: client(recordingSockets(true).Socket), conversations: true, resumeStore: untouchedStore(), smooth: false });
      const { conversationId } = await page1.client.conversations.create();
      expect(await page1.reconnectToStream({ chatId: conversationId })).toBeNull();
      model.holdAfter(10);
      void (await page1.sendMessages({ trigger: 'submit-message', chatId: conversationId, messageId: undefined, messages: [user('u1', 'reload me')], abortSignal: undefined })).getReader().read();
      await until(() => model.holding, 'the answer to reach the hold', 10_000);
      for (const id of local.connectionIds()) await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'DELETE' });

      const page2 = new GatewayChatTransport({ client: client(), conversations: true, resumeStore: untouchedStore(), smooth: false });
      const loaded = await loadMessages(page2, conversationId);
      expect(loaded.map((m) => [m.id, textOf(m)])).toEqual([['m0', 'reload me']]);
      const stream = await page2.reconnectToStream({ chatId: conversationId });
      expect(stream).not.toBeNull();
      model.release();
      const resumed = await read(stream!);
      expect(textOf(resumed)).toBe(mockAnswerTokens('reload me', 30).join(''));
      expect(resumed.metadata).toMatchObject({ conversation: { conversationId, messageId: 'm1' } });
      expect(model.requests).toHaveLength(1);
      expect(await page2.reconnectToStream({ chatId: conversationId })).toBeNull();
      expect((await loadMessages(page2, conversationId)).map((m) => textOf(m))).toEqual(['reload me', mockAnswerTokens('reload me', 30).join('')]);
    });

    it('an edit of a question whose answer was stopped (no done, so no ids) finds its kept id by the request that sent it', async () => {
      const recorded = recordingSockets();
      const transport = new GatewayChatTransport({ client: client(recorded.Socket), conversations: true, resumeStore: untouchedStore(), smooth: false });
      const { conversationId } = await transport.client.conversations.create();
      model.holdAfter(3);
      const controller = new AbortController();
      const stopped = read(await transport.sendMessages({ trigger: 'submit-message', chatId: conversationId, messageId: undefined, messages: [user('q1', 'stop this')], abortSignal: controller.signal }));
      await until(() => model.holding, 'the answer to reach the hold', 10_000);
      controller.abort();
      await stopped;
      await until(async () => (await transport.client.conversations.get(conversationId)).running === undefined, 'the stopped answer to end', 10_000);
      model.release();
      const edited = await read(await transport.sendMessages({ trigger: 'submit-message', chatId: conversationId, messageId: 'q1', messages: [user('q1', 'reworded')], abortSignal: undefined }));
      expect(turnsSent(recorded.sent).at(-1)).toEqual({ conversationId, editFrom: 'm0', message: { role: 'user', content: 'reworded' } });
      expect(textOf(edited)).toBe(mockAnswerTokens('reworded', 30).join(''));
    });

    it('pinned to a conversation (conversationId), any chat id reaches it; assistant-ui’s resumable storage names the running answer once the gateway said, and forgets it when it ended', async () => {
      const starter = client();
      const { conversationId } = await starter.conversations.create();
      const transport = new GatewayChatTransport({ client: client(), conversationId, resumeStore: untouchedStore(), smooth: false });
      expect(new GatewayChatTransport({ client: starter }).getResumableAdapter()).toBeUndefined();
      const storage = transport.getResumableAdapter()!.storage;
      model.holdAfter(5);
      const running = starter.stream({ conversationId, message: { role: 'user', content: 'hello pinned' } });
      await until(() => model.holding, 'the answer to reach the hold', 10_000);

      let told = 0;
      const off = storage.subscribe(() => (told += 1), 'thread-local-1');
      await until(() => storage.getStreamId('thread-local-1') !== null, 'the storage to learn the running answer');
      expect(storage.getStreamId('thread-local-1')).toBe(running.requestId);
      expect(told).toBe(1);
      const stream = await transport.reconnectToStream({ chatId: 'thread-local-1' });
      model.release();
      expect(textOf(await read(stream!))).toBe(mockAnswerTokens('hello pinned', 30).join(''));
      await until(() => storage.getStreamId('thread-local-1') === null, 'the storage to forget the ended answer');
      expect(told).toBe(2);
      off();
      // The tab that started it was told the answer went to another connection.
      await expect(running.done).rejects.toMatchObject({ code: 'resumed_elsewhere' });
    });
  });
});
