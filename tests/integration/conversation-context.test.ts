import { MODEL_TABLE } from '../../src/config/model-table';
import type { ChatModel, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel } from '../../src/llm/mock';
import { estimatePromptTokens } from '../../src/llm/tokens';
import { GatewayError } from '../../src/models/errors';
import type { LocalGateway } from '../../src/local/emulator';
import { allMessages, ask, CONVERSATION_AUTH, connectAs, modelLineOf, one, turn } from '../helpers/conversation-turns';
import { STORE_MODES, type StoreMode } from '../helpers/store-modes';
import type { Frame, TestClient } from '../helpers/ws-client';

/**
 * A conversation longer than its model's context window, through the emulator in both store
 * modes, on the table's small-context mock (mock.echo-v1-8k): the worker leaves the oldest
 * exchanges out of the model call — whole, so the model never reads a tool result without the
 * call before it — and `done` says how many messages it left out.
 */
const MODEL = 'mock.echo-v1-8k';
const SPEC = MODEL_TABLE[MODEL]!;
/** What the worker gives the history when the request names no maxTokens: the window less 4,096 for the answer, less the tools. */
const TOOLS = [{ name: 'lookup', description: 'Looks a thing up.', inputSchema: { type: 'object' as const, properties: { q: { type: 'string' as const } } } }];
const BUDGET = SPEC.contextTokens - 4096 - estimatePromptTokens({ messages: [], tools: TOOLS });
/** About 1,500 tokens of question. */
const padding = (label: string): string => `${label} ${'words to fill the context window '.repeat(182)}`;

/** A model message in a word: a question by its label, `call lookup`, `result`, or `answer`. */
function kindOf(m: ChatModelRequest['messages'][number]): string {
  if (typeof m.content === 'string') return m.role === 'user' ? `question ${m.content.split(' words')[0]!}` : 'answer';
  const calls = m.content.flatMap((b) => (b.type === 'tool_use' ? [`call ${b.name}`] : []));
  if (calls.length > 0) return calls.join(', ');
  if (m.content.some((b) => b.type === 'tool_result')) return 'result';
  return m.role === 'user' ? `question ${modelLineOf(m).slice('user: '.length).split(' words')[0]!}` : 'answer';
}

const isResult = (m: ChatModelRequest['messages'][number] | undefined): boolean => typeof m?.content !== 'string' && (m?.content.some((b) => b.type === 'tool_result') ?? false);

describe.each(STORE_MODES)('a conversation past its model’s context window, %s mode', (_name, makeMode) => {
  const mode: StoreMode = makeMode();
  let local: LocalGateway | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await local?.stop();
    local = undefined;
  });
  afterAll(() => mode.stop());

  /**
   * A gateway on the small model, whose every request is recorded (and the first answering tool
   * results fails before any text, with `failResults`); a client; a conversation with the lookup tool.
   */
  async function setUp(failResults = false): Promise<{ tab: TestClient; conversationId: string; seen: ChatModelRequest[] }> {
    const seen: ChatModelRequest[] = [];
    const mock = new MockChatModel({ tokenDelayMs: 1, answerTokens: 8 });
    let failing = failResults;
    const model: ChatModel = {
      stream: (request, signal) => {
        seen.push(request);
        if (failing && isResult(request.messages.at(-1))) {
          failing = false;
          return (async function* failed(): AsyncIterable<never> {
            await Promise.resolve();
            throw new GatewayError('upstream_error', 'The model failed.', { retryable: true });
          })();
        }
        return mock.stream(request, signal);
      },
    };
    local = await mode.start({ ...CONVERSATION_AUTH, ALLOWED_MODEL_IDS: MODEL }, model);
    const tab = await connectAs(local);
    clients.push(tab);
    const conversationId = String((await one(tab, 'conv/create', { tools: TOOLS })).conversation.conversationId);
    return { tab, conversationId, seen };
  }
  const resultFor = (call: Frame): Record<string, unknown> => ({ message: { role: 'user', content: [{ type: 'tool_result', toolUseId: call.toolUseId, content: 'found: 42' }] } });
  const sendResult = async (tab: TestClient, conversationId: string, call: Frame): Promise<Frame> =>
    (await ask(tab, 'llm/stream', { conversationId, ...resultFor(call) }, (f) => f.type === 'done')).at(-1)!;

  it('an edit of the message answering tool calls must answer them again: plain text is refused, changing nothing', async () => {
    const { tab, conversationId } = await setUp();
    const called = (await turn(tab, conversationId, 'please lookup q1')).at(-1)!;
    expect(called.toolUses).toEqual([expect.objectContaining({ name: 'lookup' })]);
    expect(await sendResult(tab, conversationId, called.toolUses[0])).toMatchObject({ type: 'done', conversation: { userMessageId: 'm2' } });
    const before = await allMessages(tab, conversationId);
    const refused = (await turn(tab, conversationId, 'never mind', { editFrom: 'm2' })).at(-1)!;
    expect(refused).toMatchObject({ type: 'error', code: 'invalid_request' });
    expect(refused.message).toBe(`Invalid request: data.message replaces the answer to a tool call: it must answer every call of the answer before it with a tool_result — missing "${String(called.toolUses[0].toolUseId)}".`);
    expect(await allMessages(tab, conversationId)).toEqual(before);
    const stray = (await ask(tab, 'llm/stream', { conversationId, editFrom: 'm0', message: { role: 'user', content: [{ type: 'tool_result', toolUseId: 'nope', content: 'x' }] } }, (f) => f.type === 'done')).at(-1)!;
    expect(stray).toMatchObject({ type: 'error', code: 'invalid_request' });
    // Answering the call again is an edit like any other.
    const again = (await ask(tab, 'llm/stream', { conversationId, editFrom: 'm2', ...resultFor(called.toolUses[0]) }, (f) => f.type === 'done')).at(-1)!;
    expect(again).toMatchObject({ type: 'done' });
    expect((await allMessages(tab, conversationId)).length).toBe(4);
  });

  it('leaves out the oldest whole exchanges: never a start at a tool result, the rest sent in order, droppedMessages saying how many', async () => {
    const { tab, conversationId, seen } = await setUp();
    const done = async (text: string): Promise<Frame> => {
      const end = (await turn(tab, conversationId, text)).at(-1)!;
      expect(end).toMatchObject({ type: 'done' });
      return end;
    };
    expect((await done(padding('q1'))).conversation.droppedMessages).toBe(0);
    // The second question makes the mock call `lookup`; the third turn answers it.
    const called = await done(padding('please lookup q2'));
    expect(called.toolUses).toEqual([expect.objectContaining({ name: 'lookup' })]);
    expect((await sendResult(tab, conversationId, called.toolUses[0])).conversation.droppedMessages).toBe(0);
    // Six messages (about 3,000 tokens) and 1,500 more do not fit the ~4,000 the window leaves:
    // the first exchange goes, and the cut cannot fall at the result (m5), so it falls at m2.
    const fourth = await done(padding('q4'));
    expect(fourth.conversation).toMatchObject({ conversationId, userMessageId: 'm6', messageId: 'm7', droppedMessages: 2 });
    const sent = seen.at(-1)!.messages;
    expect(sent.map(kindOf)).toEqual(['question please lookup q2', 'call lookup', 'result', 'answer', 'question q4']);
    expect(modelLineOf(sent[2]!)).toBe(`user: tool_result:${String(called.toolUses[0].toolUseId)}`);
    expect(estimatePromptTokens({ messages: sent })).toBeLessThanOrEqual(BUDGET);
    // The next turn: from q2 on would not fit either; the call and its result go together.
    const fifth = await done(padding('q5'));
    expect(fifth.conversation.droppedMessages).toBe(6);
    expect(seen.at(-1)!.messages.map(kindOf)).toEqual(['question q4', 'answer', 'question q5']);
    for (const request of seen) {
      expect(request.messages[0]?.role).toBe('user');
      expect(isResult(request.messages[0])).toBe(false);
    }
    // Left out of the model call, not of the conversation.
    expect((await allMessages(tab, conversationId)).map((m) => m.messageId)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  });

  it('sends tool results with the call they answer even when that exchange alone is past the budget', async () => {
    const { tab, conversationId, seen } = await setUp();
    // A question of about 4,500 tokens: it fits the window (the route admits it), its exchange with the result does not fit the budget.
    const question = `please lookup this ${'a long question about many things '.repeat(530)}`;
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: question }] })).toBeGreaterThan(BUDGET);
    const called = (await turn(tab, conversationId, question)).at(-1)!;
    expect(called).toMatchObject({ type: 'done', stopReason: 'tool_use', toolUses: [expect.objectContaining({ name: 'lookup' })] });
    const answered = await sendResult(tab, conversationId, called.toolUses[0]);
    expect(answered).toMatchObject({ type: 'done', conversation: { userMessageId: 'm2', messageId: 'm3', droppedMessages: 0 } });
    const sent = seen.at(-1)!.messages;
    expect(sent).toHaveLength(3);
    expect(sent[0]).toEqual({ role: 'user', content: question });
    expect(sent.slice(1).map(kindOf)).toEqual(['call lookup', 'result']);
    expect(modelLineOf(sent[2]!)).toBe(`user: tool_result:${String(called.toolUses[0].toolUseId)}`);
    expect(isResult(sent[0])).toBe(false);
  });

  it('keeps a call’s results in the model’s history when the answer to them failed with nothing and the user wrote on', async () => {
    const { tab, conversationId, seen } = await setUp(true);
    const called = (await turn(tab, conversationId, 'please lookup the weather')).at(-1)!;
    expect(called).toMatchObject({ type: 'done', toolUses: [expect.objectContaining({ name: 'lookup' })] });
    const failed = (await ask(tab, 'llm/stream', { conversationId, ...resultFor(called.toolUses[0]) }, (f) => f.type === 'done')).at(-1)!;
    expect(failed).toMatchObject({ type: 'error', code: 'upstream_error' });
    // The failed answer owes no calls: the user may write on — and the model must still read the result after its call.
    expect((await turn(tab, conversationId, 'well?')).at(-1)).toMatchObject({ type: 'done' });
    const sent = seen.at(-1)!.messages;
    expect(sent.map(kindOf)).toEqual(['question please lookup the weather', 'call lookup', 'result']);
    expect(sent[2]!.content).toEqual([{ type: 'tool_result', toolUseId: called.toolUses[0].toolUseId, content: 'found: 42' }, { type: 'text', text: 'well?' }]);
    // The conversation keeps all four turns as they were written.
    expect((await allMessages(tab, conversationId)).map((m) => `${String(m.role)}${m.status ? ` ${String(m.status)}` : ''}`)).toEqual(['user', 'assistant complete', 'user', 'assistant failed', 'user', 'assistant complete']);
  });
});
