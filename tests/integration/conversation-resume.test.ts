import { Writable } from 'node:stream';
import pino from 'pino';
import type { LocalGateway } from '../../src/local/emulator';
import { ask, nextId, one, textOf, turn } from '../helpers/conversation-frames';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { STORE_MODES, type StoreMode } from '../helpers/store-modes';
import { TestClient, type Frame } from '../helpers/ws-client';

/**
 * A conversation's running answer found by the conversation, not a token: a reloaded tab (which
 * kept nothing) resumes or cancels it; only its owner can. And the title a conversation takes
 * from its first message. Both store modes, through the emulator.
 */
const AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '8' };
const SLOW = { ...AUTH, MOCK_TOKEN_DELAY_MS: '15', MOCK_ANSWER_TOKENS: '120' };

describe.each(STORE_MODES)('a conversation’s running answer, by the conversation, %s mode', (_name, makeMode) => {
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

  /** Starts a slow turn on `tab` and waits for two of its chunks: returns its request id. */
  async function startSlowTurn(tab: TestClient, conversationId: string): Promise<string> {
    const requestId = nextId('slow');
    tab.send({ action: 'llm/stream', requestId, data: { conversationId, message: { role: 'user', content: 'tell me a long story' } } });
    await tab.waitFor((frames) => frames.filter((f) => f.requestId === requestId && f.type === 'chunk').length >= 2, 5000, 'two chunks');
    return requestId;
  }

  it('a reloaded tab finds the running answer with conv/get and resumes it from the start: the whole answer once, kept once', async () => {
    local = await mode.start(SLOW);
    const first = await connect();
    const conversationId = String((await one(first, 'conv/create')).conversation.conversationId);
    const requestId = await startSlowTurn(first, conversationId);
    await first.close();
    // The reload: a new connection that knows only the conversation.
    const tab = await connect();
    const newest = await one(tab, 'conv/get', { conversationId, order: 'newest', limit: 1 });
    expect(newest).toMatchObject({ type: 'messages', running: { requestId } });
    expect(newest.items).toMatchObject([{ role: 'user', content: 'tell me a long story' }]);
    tab.send({ action: 'llm/resume', requestId, data: { conversationId, fromSeq: 0 } });
    const done = await tab.terminal(requestId, 15_000);
    const frames = tab.of(requestId);
    expect(frames[0]).toEqual({ type: 'resumed', requestId, fromSeq: 0 });
    expect(done).toMatchObject({ type: 'done', conversation: { conversationId, messageId: 'm1' } });
    const seqs = frames.filter((f) => f.type === 'chunk').map((f) => Number(f.seq));
    expect(seqs).toEqual(seqs.map((_, i) => i));
    const page = await one(tab, 'conv/get', { conversationId });
    expect(page.running).toBeUndefined();
    expect(page.items).toHaveLength(2);
    expect(page.items[1]).toMatchObject({ role: 'assistant', status: 'complete' });
    expect(page.items[1].content.map((b: Frame) => b.text).join('')).toBe(textOf(frames));
  });

  it('only the owner: another user resuming or cancelling by the conversation meets the unknown request', async () => {
    local = await mode.start(SLOW);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const requestId = await startSlowTurn(tab, conversationId);
    const mallory = await connect('mallory');
    mallory.send({ action: 'llm/cancel', requestId, data: { conversationId } });
    const refused = await ask(mallory, 'llm/resume', { conversationId, fromSeq: 0 }, () => false, requestId);
    expect(refused).toEqual([expect.objectContaining({ type: 'error', code: 'resume_unavailable', requestId })]);
    // Mallory's cancel did nothing: the answer ends whole, on its own tab.
    expect(await tab.terminal(requestId, 15_000)).toMatchObject({ type: 'done' });
    expect(mallory.of(requestId)).toHaveLength(1);
  });

  it('another tab of the owner cancels the answer by the conversation; the cut answer is kept as cancelled', async () => {
    local = await mode.start(SLOW);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const requestId = await startSlowTurn(tab, conversationId);
    const other = await connect();
    other.send({ action: 'llm/cancel', requestId, data: { conversationId } });
    expect(await tab.terminal(requestId, 10_000)).toMatchObject({ type: 'error', code: 'cancelled' });
    const page = await one(other, 'conv/get', { conversationId });
    expect(page.items[1]).toMatchObject({ role: 'assistant', status: 'cancelled' });
    // Cancel is silent where it was sent.
    expect(other.of(requestId)).toEqual([]);
  });

  it('an answer that has ended is no longer the conversation’s to resume; a resume names a token or a conversation, exactly one', async () => {
    local = await mode.start(AUTH);
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create')).conversation.conversationId);
    const done = (await turn(tab, conversationId, 'hello')).at(-1)!;
    const ended = await ask(tab, 'llm/resume', { conversationId, fromSeq: 0 }, () => false, String(done.requestId));
    expect(ended.at(-1)).toMatchObject({ type: 'error', code: 'resume_unavailable', requestId: done.requestId });
    // An invalid resume ends nothing: it names its id as refusedRequestId.
    const refusal = async (data: Record<string, unknown>): Promise<Frame> => {
      const requestId = nextId('bad');
      tab.send({ action: 'llm/resume', requestId, data });
      return (await tab.waitFor((frames) => frames.some((f) => f.refusedRequestId === requestId))).find((f) => f.refusedRequestId === requestId)!;
    };
    const neither = await refusal({ fromSeq: 0 });
    expect(neither).toMatchObject({ type: 'error', code: 'invalid_request', message: 'Invalid request: data needs a resumeToken (from accepted) or a conversationId (its running answer), exactly one of the two.' });
    const both = await refusal({ conversationId, resumeToken: 'A'.repeat(32), fromSeq: 0 });
    expect(both).toMatchObject({ type: 'error', code: 'invalid_request' });
  });

  it('logs a conversation by its id and counts only: never a message, an answer, a title or a system prompt', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
    local = await mode.start(AUTH, { logger });
    const tab = await connect();
    const conversationId = String((await one(tab, 'conv/create', { title: 'Secret-Title-7', systemPrompt: 'Secret-System-7' })).conversation.conversationId);
    const done = (await turn(tab, conversationId, 'Secret-Question-7 please')).at(-1)!;
    expect(done).toMatchObject({ type: 'done' });
    await one(tab, 'conv/get', { conversationId });
    await one(tab, 'conv/rename', { conversationId, title: 'Secret-Rename-7' });
    await one(tab, 'conv/delete', { conversationId });
    const logged = lines.join('');
    expect(logged).toContain(conversationId);
    // The mock's answer echoes the question: neither it nor anything the user wrote is logged.
    expect(logged).not.toMatch(/Secret-(Title|System|Question|Rename)-7/);
  });

  it('takes its title from the first user message, cut at a word; a given title or a rename stays', async () => {
    local = await mode.start(AUTH);
    const tab = await connect();
    const untitled = String((await one(tab, 'conv/create')).conversation.conversationId);
    const question = 'Why is the  sky blue on a clear day,\nand why does it turn red and orange at sunset over the sea and mountains?';
    await turn(tab, untitled, question);
    await turn(tab, untitled, 'and at night?');
    const titled = String((await one(tab, 'conv/create', { title: 'Mine' })).conversation.conversationId);
    await turn(tab, titled, 'hello there');
    const list = await one(tab, 'conv/list');
    const byId = new Map<string, Frame>(list.items.map((c: Frame) => [String(c.conversationId), c]));
    expect(byId.get(untitled)?.title).toBe('Why is the sky blue on a clear day, and why does it turn red and orange at…');
    expect(byId.get(titled)?.title).toBe('Mine');
    await one(tab, 'conv/rename', { conversationId: untitled, title: 'Sky' });
    await turn(tab, untitled, 'one more');
    expect((await one(tab, 'conv/list')).items.find((c: Frame) => c.conversationId === untitled)?.title).toBe('Sky');
  });
});
