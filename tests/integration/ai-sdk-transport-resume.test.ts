import WebSocket from 'ws';
import { GatewayClient, GatewayError } from '../../client/src/index.js';
import { GatewayChatTransport, type Chunk, type InFlight, type ResumeStore, type UiMessage } from '../../client/src/ai-sdk/index.js';
import type { ChatModel, ChatModelEvent } from '../../src/llm/chat-model';
import type { LocalGateway } from '../../src/local/emulator';
import { startLocal } from '../helpers/local';

/**
 * The transport's resume record (what `reconnectToStream` resumes after a reload) against the
 * emulator, with a model that thinks until the test lets it answer: the record is there from
 * `accepted` on, before any token, and only the answer's real end removes it — a resume that is
 * superseded or detached leaves it, since the answer goes on on the gateway.
 */
const TOKENS = ['The ', 'answer ', 'is ', 'forty-two.'];
const ANSWER = TOKENS.join('');

/** A model that writes `head` tokens, then thinks until `answer()` is called, then writes the rest. */
function thinkingModel(head = 0): { model: ChatModel; answer: () => void } {
  let answer!: () => void;
  const thought = new Promise<void>((resolve) => (answer = resolve));
  const model: ChatModel = {
    async *stream(_request, signal): AsyncIterable<ChatModelEvent> {
      for (const text of TOKENS.slice(0, head)) yield { type: 'delta', text };
      await Promise.race([thought, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
      if (signal.aborted) return;
      for (const text of TOKENS.slice(head)) yield { type: 'delta', text };
      yield { type: 'end', stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: TOKENS.length, totalTokens: 3 + TOKENS.length }, modelId: 'mock.echo-v1' };
    },
  };
  return { model, answer };
}

/**
 * A page's sockets: each records the frames it receives, so a test can wait for one; `once`
 * makes every later socket fail to connect, as for a page that went away (it neither resumes nor
 * cancels). Its listener runs before the client's own handler of the same frame, and a test
 * awaiting `frame()` resumes after both.
 */
function pageSockets(once = false): { Socket: typeof WebSocket; frame: (type: string) => Promise<Record<string, unknown>> } {
  const seen: Array<Record<string, unknown>> = [];
  const waiting: Array<{ type: string; resolve: (frame: Record<string, unknown>) => void }> = [];
  let made = 0;
  class Socket extends WebSocket {
    constructor(url: string | URL | null) {
      super(once && (made += 1) > 1 ? 'ws://127.0.0.1:9/' : String(url));
      this.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        seen.push(frame);
        for (const waiter of waiting.filter((w) => w.type === frame.type)) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      });
    }
  }
  const frame = (type: string) => {
    const already = seen.find((f) => f.type === type);
    return already !== undefined ? Promise.resolve(already) : new Promise<Record<string, unknown>>((resolve) => waiting.push({ type, resolve }));
  };
  return { Socket, frame };
}

function memoryStore(): ResumeStore {
  const map = new Map<string, InFlight>();
  return { get: (id) => map.get(id), set: (id, value) => void map.set(id, value), delete: (id) => void map.delete(id) };
}

async function read(stream: ReadableStream<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Chunk>) chunks.push(chunk);
  return chunks;
}
const textOf = (chunks: readonly Chunk[]): string => chunks.flatMap((c) => (c.type === 'text-delta' ? [c.delta] : [])).join('');
const user: UiMessage = { id: 'u-1', role: 'user', parts: [{ type: 'text', text: 'think first' }] };

describe('GatewayChatTransport’s resume record, against the emulator', () => {
  let local: LocalGateway;
  let answer: () => void;
  const clients: GatewayClient[] = [];
  const client = (Socket: typeof WebSocket = WebSocket): GatewayClient => {
    const made = new GatewayClient({ url: local.url, WebSocket: Socket });
    clients.push(made);
    return made;
  };
  const start = async (head = 0): Promise<void> => {
    const thinking = thinkingModel(head);
    answer = thinking.answer;
    local = await startLocal({ RESUME_GRACE_SECONDS: '30' }, { deps: { model: thinking.model } });
  };
  /** The page reloads: its socket goes (no cancel, no reconnect), the answer goes on on the gateway. */
  const reload = async (): Promise<void> => {
    for (const id of local.connectionIds()) await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(id)}`, { method: 'DELETE' });
  };
  /** An answer in flight, started by a page that then went away, with its record in `store`. */
  const inFlight = async (store: ResumeStore): Promise<InFlight> => {
    const page = pageSockets(true);
    const stream = client(page.Socket).stream({ messages: [{ role: 'user', content: 'think first' }] });
    await page.frame('accepted');
    const record = { requestId: stream.requestId, resumeToken: stream.resumeToken!, messageId: 'm-1' };
    store.set('c', record);
    await reload();
    return record;
  };

  afterEach(async () => {
    answer();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local.stop();
  });

  it('writes the record when the answer is accepted, before its first token: a reload while the model still thinks resumes it whole', async () => {
    await start();
    const store = memoryStore();
    const page1 = pageSockets(true);
    const transport1 = new GatewayChatTransport({ client: client(page1.Socket), resumeStore: store, smooth: false });
    const live = await transport1.sendMessages({ trigger: 'submit-message', chatId: 'c', messageId: undefined, messages: [user], abortSignal: undefined });
    const accepted = await page1.frame('accepted');
    expect(store.get('c')).toEqual({ requestId: accepted.requestId, resumeToken: accepted.resumeToken, messageId: `msg-${String(accepted.requestId)}` });

    await reload();
    const transport2 = new GatewayChatTransport({ client: client(), resumeStore: store, smooth: false });
    const resuming = transport2.reconnectToStream({ chatId: 'c' });
    answer();
    const resumed = await resuming;
    expect(resumed).not.toBeNull();
    const chunks = await read(resumed!);
    expect(chunks[0]).toEqual({ type: 'start', messageId: `msg-${String(accepted.requestId)}` });
    expect(textOf(chunks)).toBe(ANSWER);
    expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    // Ended: forgotten.
    expect(store.get('c')).toBeUndefined();
    await live.cancel().catch(() => undefined);
  });

  it('keeps the record when the AI SDK supersedes a resume before its first event (aborting it): the next reconnect gets the answer', async () => {
    await start();
    const store = memoryStore();
    const record = await inFlight(store);
    const page2 = pageSockets();
    const transport2 = new GatewayChatTransport({ client: client(page2.Socket), resumeStore: store, smooth: false });
    const superseded = new AbortController();
    const first = transport2.reconnectToStream({ chatId: 'c', abortSignal: superseded.signal });
    await page2.frame('resumed');
    superseded.abort();
    // Detached: nothing for the AI SDK to read (it discards a superseded resume's result anyway).
    await expect(first).resolves.toBeNull();
    expect(store.get('c')).toEqual(record);

    const again = transport2.reconnectToStream({ chatId: 'c' });
    answer();
    const resumed = await again;
    expect(resumed).not.toBeNull();
    expect(textOf(await read(resumed!))).toBe(ANSWER);
    expect(store.get('c')).toBeUndefined();
  });

  it('keeps the record when a resume is taken over elsewhere before its first event (resumed_elsewhere): the answer goes on and is resumable', async () => {
    await start();
    const store = memoryStore();
    const record = await inFlight(store);
    const page2 = pageSockets();
    const transport2 = new GatewayChatTransport({ client: client(page2.Socket), resumeStore: store, smooth: false });
    const first = transport2.reconnectToStream({ chatId: 'c' });
    await page2.frame('resumed');
    // Another tab (a duplicated one shares the record) resumes the same answer.
    const other = client().resume({ requestId: record.requestId, resumeToken: record.resumeToken });
    const error = await first.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'resumed_elsewhere' });
    expect(store.get('c')).toEqual(record);

    const transport3 = new GatewayChatTransport({ client: client(), resumeStore: store, smooth: false });
    const again = transport3.reconnectToStream({ chatId: 'c' });
    answer();
    const resumed = await again;
    expect(resumed).not.toBeNull();
    expect(textOf(await read(resumed!))).toBe(ANSWER);
    await expect(other.done).rejects.toMatchObject({ code: 'resumed_elsewhere' });
  });

  it('keeps the record when a resumed answer is taken over elsewhere mid-stream: this stream ends with the error, the answer stays resumable', async () => {
    await start(2);
    const store = memoryStore();
    const record = await inFlight(store);
    const transport2 = new GatewayChatTransport({ client: client(), resumeStore: store, smooth: false });
    const resumed = await transport2.reconnectToStream({ chatId: 'c' });
    expect(resumed).not.toBeNull();
    const reader = resumed!.getReader();
    const chunks: Chunk[] = [];
    while (!chunks.some((c) => c.type === 'text-delta')) chunks.push((await reader.read()).value!);
    const other = client().resume({ requestId: record.requestId, resumeToken: record.resumeToken });
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(chunks.at(-1)).toMatchObject({ type: 'error', errorText: expect.stringMatching(/^resumed_elsewhere: /) });
    expect(store.get('c')).toEqual(record);
    answer();
    let text = '';
    for await (const delta of other) text += delta;
    expect(text).toBe(ANSWER);
  });
});
