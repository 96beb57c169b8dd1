import { randomBytes } from 'node:crypto';
import type { ChatModel, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel } from '../../src/llm/mock';
import type { LocalGateway } from '../../src/local/emulator';
import type { StoredMessage } from '../../src/stores/conversation-store';
import { CONVERSATION_AUTH, connectAs, conversationsOf, nextId, one, ownerOf, turn } from '../helpers/conversation-turns';
import { STORE_MODES, type StoreMode } from '../helpers/store-modes';
import type { Frame, TestClient } from '../helpers/ws-client';

/**
 * A conversation of 2,000 messages and more than 2 MB, in both store modes: written through the
 * app's ConversationStore (not 1,000 round trips), then one turn over the socket is answered —
 * its history read whole and fitted to the model — and `conv/get` pages the whole conversation
 * back, every frame within API Gateway's 128 KB, a message larger than a frame in parts.
 */
const FRAME_LIMIT = 128 * 1024;
const MESSAGES = 2000;
/** The index of one answer of 480 KB of random text: larger than a frame, and (deflated) than a DynamoDB item's body. */
const HUGE_AT = 1001;

const VOCABULARY = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango'.split(' ');
/** About `bytes` of text, varied enough that it does not deflate to nothing; message `index` named first. */
function textOf(index: number, bytes: number): string {
  const words = [`message ${index}:`];
  let length = words[0]!.length;
  for (let k = 0; length < bytes; k += 1) {
    const word = VOCABULARY[(index * 7 + k * 13 + ((k * k) % 11)) % VOCABULARY.length]!;
    words.push(word);
    length += word.length + 1;
  }
  return words.join(' ');
}

function messageAt(index: number): StoredMessage {
  const base = { index, createdAt: Date.UTC(2026, 0, 1) + index * 1000, requestId: `fill-${Math.floor(index / 2)}`, jobId: 'fill' };
  if (index % 2 === 0) return { ...base, role: 'user', content: textOf(index, 1000) };
  const text = index === HUGE_AT ? `message ${index}: ${randomBytes(360 * 1024).toString('base64')}` : textOf(index, 1100);
  return { ...base, role: 'assistant', content: [{ type: 'text', text }], status: 'complete', modelId: 'mock.echo-v1', stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
}
const textIn = (content: StoredMessage['content'] | Frame[]): string => (typeof content === 'string' ? content : (content as Frame[]).map((b) => String(b.text ?? '')).join(''));

describe.each(STORE_MODES)('a conversation of 2,000 messages and 2 MB, %s mode', (_name, makeMode) => {
  const mode: StoreMode = makeMode();
  let local: LocalGateway | undefined;
  let tab: TestClient | undefined;
  afterEach(async () => {
    await tab?.close();
    await local?.stop();
    local = undefined;
  });
  afterAll(() => mode.stop());

  /** Every page of `conv/get`, a page's frames (parts) collected until its last. */
  async function pages(client: TestClient, conversationId: string): Promise<Frame[][]> {
    const all: Frame[][] = [];
    let cursor: string | undefined;
    do {
      const requestId = nextId('page');
      const before = client.frames.length;
      client.send({ action: 'conv/get', requestId, data: { conversationId, limit: 100, ...(cursor !== undefined ? { cursor } : {}) } });
      const last = (f: Frame): boolean => f.requestId === requestId && (f.type === 'error' || f.part === undefined || f.part === f.parts - 1);
      await client.waitFor((frames) => frames.slice(before).some(last), 20_000, `page ${all.length}`);
      const frames = client.frames.slice(before).filter((f) => f.requestId === requestId);
      expect(frames.every((f) => f.type === 'messages')).toBe(true);
      all.push(frames);
      cursor = frames.at(-1)!.cursor as string | undefined;
    } while (cursor !== undefined);
    return all;
  }

  it('answers a turn after the whole history, and pages every message back within one frame each', async () => {
    const seen: ChatModelRequest[] = [];
    const mock = new MockChatModel({ tokenDelayMs: 1, answerTokens: 8 });
    const model: ChatModel = { stream: (request, signal) => (seen.push(request), mock.stream(request, signal)) };
    // The route reserves the history's tokens (up to the window): more than the default 40,000 a minute.
    local = await mode.start({ ...CONVERSATION_AUTH, RATE_LIMIT_TOKENS_PER_MINUTE: '10000000' }, model);
    tab = await connectAs(local);
    const conversationId = String((await one(tab, 'conv/create', { title: 'Long' })).conversation.conversationId);

    // Fill: one run reserves the 2,000 indexes, the messages go in 20 at a time, and it ends counting them.
    const store = conversationsOf(local);
    const now = Date.now();
    const begun = await store.begin(ownerOf(), conversationId, { requestId: 'fill', jobId: 'fill', streamKey: 'fill', until: now + 600_000 }, MESSAGES, now);
    expect(begun).toMatchObject({ outcome: 'begun', firstIndex: 0 });
    const written = Array.from({ length: MESSAGES }, (_, i) => messageAt(i));
    for (let at = 0; at < MESSAGES; at += 20) expect(await Promise.all(written.slice(at, at + 20).map((m) => store.append(conversationId, m)))).toEqual(Array(Math.min(20, MESSAGES - at)).fill(true));
    expect(await store.finish(ownerOf(), conversationId, 'fill', { added: MESSAGES, removed: 0, historyTokens: 190_000, lastModelId: 'mock.echo-v1', pendingToolUseIds: [], updatedAt: now })).toBe(true);
    const bytes = written.reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m.content)), 0);
    expect(bytes).toBeGreaterThanOrEqual(2 * 1024 * 1024);

    // One turn over the socket: done, after as much of the history as the model holds, newest last.
    const frames = await turn(tab, conversationId, 'and one more question', {}, 60_000);
    const done = frames.at(-1)!;
    expect(done).toMatchObject({ type: 'done', conversation: { conversationId, userMessageId: `m${MESSAGES}`, messageId: `m${MESSAGES + 1}` } });
    const dropped = done.conversation.droppedMessages as number;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped % 2).toBe(0);
    const sent = seen.at(-1)!.messages;
    expect(sent).toHaveLength(MESSAGES - dropped + 1);
    expect(sent.at(-1)).toEqual({ role: 'user', content: 'and one more question' });
    expect(sent.slice(0, -1).map((m) => textIn(m.content as StoredMessage['content']))).toEqual(written.slice(dropped).map((m) => textIn(m.content)));

    // conv/get, 100 at most a page: every frame within 128 KB, every message once, in order, as written.
    const rawBefore = tab.raw.length;
    const all = await pages(tab, conversationId);
    const sizes = tab.raw.slice(rawBefore).map((text) => Buffer.byteLength(text));
    expect(sizes.length).toBe(all.flat().length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(FRAME_LIMIT);
    // Pages end early where the next message would not fit: more pages than 2,002 / 100.
    expect(all.length).toBeGreaterThan(Math.ceil((MESSAGES + 2) / 100));
    const huge = all.find((page) => page.length > 1)!;
    expect(huge.map((f) => [f.part, f.parts])).toEqual(huge.map((_, i) => [i, huge.length]));
    expect(huge.every((f) => f.items.length === 1 && f.items[0].messageId === `m${HUGE_AT}`)).toBe(true);
    // A message in parts is its pieces joined in order.
    const messages = all.map((page) => (page.length === 1 ? (page[0]!.items as Frame[]) : [{ ...page[0]!.items[0], content: page.flatMap((f) => f.items[0].content as Frame[]) }])).flat();
    expect(messages.map((m) => m.messageId)).toEqual(Array.from({ length: MESSAGES + 2 }, (_, i) => `m${i}`));
    expect(messages.slice(0, MESSAGES).map((m) => textIn(m.content))).toEqual(written.map((m) => textIn(m.content)));
    expect(messages.at(-2)).toMatchObject({ role: 'user', content: 'and one more question' });
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', status: 'complete' });
    expect(((await one(tab, 'conv/list')).items as Frame[])[0]).toMatchObject({ conversationId, messageCount: MESSAGES + 2 });
  }, 120_000);
});
