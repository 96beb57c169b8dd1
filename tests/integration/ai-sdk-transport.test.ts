import WebSocket from 'ws';
import { readUIMessageStream, uiMessageChunkSchema, type UIMessage } from 'ai';
// `ai` 5 too (installed as ai-v5): every chunk must be one both majors accept.
import { readUIMessageStream as readUIMessageStreamV5, uiMessageChunkSchema as uiMessageChunkSchemaV5 } from 'ai-v5';
import { GatewayClient } from '../../client/src/index.js';
import { GatewayChatTransport, toGatewayRequest, type Chunk, type UiMessage } from '../../client/src/ai-sdk/index.js';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { png } from '../helpers/attachments';
import type { WsEvent } from '../../src/utils/lambda';
import { startLocal } from '../helpers/local';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * The AI SDK transport against the emulator, read by the AI SDK itself: every chunk validates
 * against `ai`'s own `uiMessageChunkSchema`, and `readUIMessageStream` builds the message a
 * `useChat` would show — text, tool calls, files, stop, and reconnecting after a "reload".
 */
const TIME = { name: 'get_time', inputSchema: { type: 'object' as const, properties: { zone: { type: 'string', examples: ['UTC'] } }, required: ['zone'] } };
const user = (text: string, extra: UiMessage['parts'] = []): UiMessage => ({ id: `u-${text}`, role: 'user', parts: [{ type: 'text', text }, ...extra] });

/** A real PNG of about `bytes` bytes: the 2×2 image with a private ancillary chunk of padding before its end. */
function largePng(bytes: number): Buffer {
  const image = png();
  const padding = Buffer.alloc(bytes, 0x61);
  const chunk = Buffer.concat([Buffer.alloc(4), Buffer.from('paDd', 'ascii'), padding, Buffer.alloc(4)]);
  chunk.writeUInt32BE(padding.length, 0);
  const end = image.length - 12; // IEND: length, type, CRC
  return Buffer.concat([image.subarray(0, end), chunk, image.subarray(end)]);
}

/** Reads a chunk stream whole; every chunk must validate against the AI SDK's own schema. */
async function drain(stream: ReadableStream<Chunk>): Promise<{ chunks: Chunk[]; message: UIMessage | undefined }> {
  const [mine, theirs] = stream.tee();
  const chunks: Chunk[] = [];
  const reading = (async () => {
    for await (const chunk of mine as unknown as AsyncIterable<Chunk>) {
      for (const [major, schema] of [['ai 7', uiMessageChunkSchema], ['ai 5', uiMessageChunkSchemaV5]] as const) {
        const checked = await schema().validate!(chunk);
        if (!checked.success) throw new Error(`${major}: chunk ${JSON.stringify(chunk)} does not validate: ${String(checked.error)}`);
      }
      chunks.push(chunk);
    }
  })();
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: theirs })) message = m;
  await reading;
  return { chunks, message };
}

describe('GatewayChatTransport (the AI SDK’s ChatTransport) against the emulator', () => {
  it('builds the same UI message with ai 5’s readUIMessageStream as with ai 7’s', async () => {
    const chunks: Chunk[] = [];
    for await (const chunk of (await send([user('both majors')])) as unknown as AsyncIterable<Chunk>) chunks.push(chunk);
    const replay = () => new ReadableStream<Chunk>({ start: (c) => (chunks.forEach((chunk) => c.enqueue(chunk)), c.close()) });
    let v7: UIMessage | undefined;
    for await (const m of readUIMessageStream({ stream: replay() })) v7 = m;
    let v5: unknown;
    for await (const m of readUIMessageStreamV5({ stream: replay() })) v5 = m;
    expect(v5).toEqual(v7);
    expect(v7?.parts.find((p) => p.type === 'text')).toMatchObject({ text: mockAnswerTokens('both majors', 30).join('') });
  });

  let local: LocalGateway;
  let client: GatewayClient;
  let transport: GatewayChatTransport;
  beforeEach(async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '2', MOCK_ANSWER_TOKENS: '30', RESUME_GRACE_SECONDS: '30' });
    client = new GatewayClient({ url: local.url, WebSocket });
    transport = new GatewayChatTransport({ client, resumeStore: memoryStore() });
  });
  afterEach(async () => {
    await client.close();
    await local.stop();
  });

  const memoryStore = () => {
    const map = new Map<string, { requestId: string; resumeToken: string; messageId: string }>();
    return { get: (id: string) => map.get(id), set: (id: string, v: { requestId: string; resumeToken: string; messageId: string }) => void map.set(id, v), delete: (id: string) => void map.delete(id) };
  };
  const send = (messages: UiMessage[], extra: { abortSignal?: AbortSignal; body?: object } = {}) =>
    transport.sendMessages({ trigger: 'submit-message', chatId: 'chat-1', messageId: undefined, messages, abortSignal: extra.abortSignal, ...(extra.body ? { body: extra.body } : {}) });

  it('streams an answer as start, text-start/delta/end and finish (with model, usage and timings), which the AI SDK reads as one text part', async () => {
    const { chunks, message } = await drain(await send([user('hello transport')]));
    expect(chunks.map((c) => c.type).filter((t, i, all) => t !== all[i - 1])).toEqual(['start', 'start-step', 'text-start', 'text-delta', 'text-end', 'finish-step', 'finish']);
    expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', messageMetadata: { modelId: 'mock.echo-v1', stopReason: 'end_turn', usage: { outputTokens: 30 } } });
    expect(message?.parts).toEqual([{ type: 'step-start' }, { type: 'text', text: mockAnswerTokens('hello transport', 30).join(''), state: 'done' }]);
  });

  it('lets each frame’s text out in smaller deltas by default, and frame by frame with smooth: false — the same text either way', async () => {
    // Its own gateway, counting the chunk frames it posts.
    await client.close();
    await local.stop();
    let frames = 0;
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '30' }, { beforePost: (_id, data) => void (frames += data.toString('utf8').includes('"type":"chunk"') ? 1 : 0) });
    client = new GatewayClient({ url: local.url, WebSocket });
    transport = new GatewayChatTransport({ client, resumeStore: memoryStore() });
    const deltas = (chunks: Chunk[]) => chunks.flatMap((c) => (c.type === 'text-delta' ? [c.delta] : []));
    const smooth = await drain(await send([user('smooth me')]));
    const smoothFrames = frames;
    transport = new GatewayChatTransport({ client, resumeStore: memoryStore(), smooth: false });
    frames = 0;
    const raw = await drain(await send([user('smooth me')]));
    expect(deltas(smooth.chunks).join('')).toBe(mockAnswerTokens('smooth me', 30).join(''));
    expect(deltas(raw.chunks).join('')).toBe(mockAnswerTokens('smooth me', 30).join(''));
    // Unsmoothed, one delta per frame; smoothed, frames are split into more, smaller deltas.
    expect(deltas(raw.chunks)).toHaveLength(frames);
    expect(deltas(smooth.chunks).length).toBeGreaterThan(smoothFrames);
  });

  it('streams a tool call as tool-input-start/delta/available; the call and its output go back as tool_use and tool_result', async () => {
    const first = await drain(await send([user('use get_time')], { body: { tools: [TIME] } }));
    expect(first.chunks.map((c) => c.type)).toEqual(expect.arrayContaining(['tool-input-start', 'tool-input-delta', 'tool-input-available']));
    const call = first.message!.parts.find((p) => p.type === 'tool-get_time') as { toolCallId: string; input: unknown } | undefined;
    expect(call?.input).toEqual({ zone: 'UTC' });
    expect(first.chunks.at(-1)).toMatchObject({ finishReason: 'tool-calls' });
    // What useChat sends next, once addToolResult answered the call.
    const answered: UiMessage = { ...first.message!, parts: first.message!.parts.map((p) => (p.type === 'tool-get_time' ? { ...p, state: 'output-available', output: '12:00' } : p)) };
    const converted = await toGatewayRequest([user('use get_time'), answered], () => Promise.reject(new Error('no files')));
    expect(converted.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    const second = await drain(await send([user('use get_time'), answered], { body: { tools: [TIME] } }));
    expect(second.message?.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'From the tools: get_time returned "12:00".' });
  });

  it('sends file parts: a small image inline, a document uploaded first', async () => {
    const image = `data:image/png;base64,${png().toString('base64')}`;
    const doc = `data:text/plain;base64,${Buffer.from('the quick brown fox jumps').toString('base64')}`;
    const { message } = await drain(await send([user('see', [{ type: 'file', mediaType: 'image/png', url: image }, { type: 'file', mediaType: 'text/plain', url: doc, filename: 'fox.txt' }])]));
    expect(message?.parts.find((p) => p.type === 'text')).toMatchObject({ text: `I received an image (image/png, ${png().length} bytes), a document "fox.txt" (text/plain, 25 bytes) beginning "the quick brown fox jumps". ` });
  });

  it('uploads a large image once: the later turns that send its file part again refer to the same attachment, with no new llm/upload', async () => {
    // Its own gateway, recording what the client sends.
    await client.close();
    await local.stop();
    const events: WsEvent[] = [];
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '2', MOCK_ANSWER_TOKENS: '30' }, { onEvent: (event) => events.push(event) });
    client = new GatewayClient({ url: local.url, WebSocket });
    transport = new GatewayChatTransport({ client, resumeStore: memoryStore() });
    const big = largePng(150 * 1024); // over the inline limit: uploaded
    const photo = { type: 'file', mediaType: 'image/png', filename: 'big.png', url: `data:image/png;base64,${big.toString('base64')}` };
    let history: UiMessage[] = [];
    for (const text of ['what is this?', 'and now?', 'once more']) {
      history = [...history, user(text, text === 'what is this?' ? [photo] : [])];
      const { message } = await drain(await send(history));
      // A conversation as an app keeps it: copies of the messages (stored, restored), not the same objects.
      history = structuredClone([...history, message as unknown as UiMessage]);
    }
    const frames = events.map((event) => (event.body === undefined ? {} : (JSON.parse(event.body) as { action?: string; data?: { messages?: Array<{ content: unknown }> } })));
    expect(frames.filter((frame) => frame.action === 'llm/upload')).toHaveLength(1);
    // Every turn still carries the image, as the same attachment.
    const images = frames.filter((frame) => frame.action === 'llm/stream').map((frame) => (frame.data!.messages![0]!.content as Array<{ type: string; attachmentId?: string }>).find((block) => block.type === 'image'));
    expect(images).toHaveLength(3);
    expect(new Set(images.map((image) => image?.attachmentId)).size).toBe(1);
    expect(images[0]?.attachmentId).toEqual(expect.any(String));
  });

  it('uploads the file again once a gateway refused a turn for it (an attachment it no longer has), and the retried turn goes through', async () => {
    await client.close();
    await local.stop();
    let uploads = 0;
    const onEvent = (event: WsEvent) => void (uploads += event.requestContext.routeKey === 'llm/upload' ? 1 : 0);
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '2', MOCK_ANSWER_TOKENS: '30' }, { onEvent });
    // One address for both gateways (a proxy bound once), so no port is freed and bound again.
    const proxy = await TcpProxy.start(local.port);
    try {
      client = new GatewayClient({ url: proxy.url(), WebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
      transport = new GatewayChatTransport({ client, resumeStore: memoryStore() });
      const photo = { type: 'file', mediaType: 'image/png', url: `data:image/png;base64,${largePng(100 * 1024).toString('base64')}` };
      const first = [user('what is this?', [photo])];
      const { message } = await drain(await send(first));
      // Another gateway behind the same address (a new deployment, a wiped bucket): it never saw the attachment.
      proxy.pointAt(undefined);
      proxy.cut();
      await local.stop();
      local = await startLocal({ MOCK_TOKEN_DELAY_MS: '2', MOCK_ANSWER_TOKENS: '30' }, { onEvent });
      proxy.pointAt(local.port);
      const history = [...first, message as unknown as UiMessage, user('and now?')];
      const refused = await drain(await send(history));
      expect(refused.chunks.at(-1)).toMatchObject({ type: 'error', errorText: expect.stringMatching(/^invalid_request: .*unknown attachment/) as string });
      expect(uploads).toBe(1);
      const retried = await drain(await send(history));
      expect(retried.chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
      expect(uploads).toBe(2);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('an aborted answer ends with abort; a reconnect after a reload replays the answer in flight from its start, and null once nothing is', async () => {
    const controller = new AbortController();
    const stopped = await send([user('stop me')], { abortSignal: controller.signal });
    const reader = stopped.getReader();
    await reader.read();
    controller.abort();
    const rest: Chunk[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    expect(rest.at(-1)).toEqual({ type: 'abort' });

    await local.stop();
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '30', MOCK_ANSWER_TOKENS: '40', RESUME_GRACE_SECONDS: '30' });
    await client.close();
    const store = memoryStore();
    // The page that reloads: its client never reconnects (it is gone), so it neither resumes nor cancels.
    let made = 0;
    class FirstOnly extends WebSocket {
      constructor(url: string) {
        super((made += 1) === 1 ? url : 'ws://127.0.0.1:9/');
      }
    }
    const before = new GatewayClient({ url: local.url, WebSocket: FirstOnly });
    const page1 = new GatewayChatTransport({ client: before, resumeStore: store });
    const live = (await page1.sendMessages({ trigger: 'submit-message', chatId: 'c', messageId: undefined, messages: [user('a reload')], abortSignal: undefined })).getReader();
    const firstChunks: Chunk[] = [];
    while (firstChunks.filter((c) => c.type === 'text-delta').length < 3) firstChunks.push((await live.read()).value!);
    expect(store.get('c')).toMatchObject({ messageId: (firstChunks[0] as { messageId: string }).messageId });
    // The page reloads: its socket is gone (no cancel), a new page's transport reconnects.
    const [connectionId] = local.connectionIds();
    await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
    client = new GatewayClient({ url: local.url, WebSocket });
    const page2 = new GatewayChatTransport({ client, resumeStore: store });
    const resumed = await page2.reconnectToStream({ chatId: 'c' });
    expect(resumed).not.toBeNull();
    const { chunks, message } = await drain(resumed!);
    expect(chunks[0]).toEqual(firstChunks[0]); // the same message id
    expect(message?.parts.find((p) => p.type === 'text')).toMatchObject({ text: mockAnswerTokens('a reload', 40).join('') });
    expect(await page2.reconnectToStream({ chatId: 'c' })).toBeNull();
    // A remembered answer the gateway no longer knows (expired, or a stale token): null, and forgotten.
    store.set('old', { requestId: 'gone-1', resumeToken: 'S'.repeat(32), messageId: 'm-old' });
    expect(await page2.reconnectToStream({ chatId: 'old' })).toBeNull();
    expect(store.get('old')).toBeUndefined();
    await live.cancel().catch(() => undefined);
    await before.close();
  });
});
