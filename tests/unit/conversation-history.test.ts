import fc from 'fast-check';
import { fitHistory, turnsOf } from '../../src/generation/conversation-history';
import { estimatePromptTokens } from '../../src/llm/tokens';
import type { ChatMessage, ContentBlock } from '../../src/models/protocol';
import type { StoredMessage } from '../../src/stores/conversation-store';
import { seedFromEnv } from '../helpers/seed';

/**
 * A conversation's stored messages as the model's history (turnsOf), and that history fitted to
 * the model's context window (fitHistory): whole exchanges left out oldest first, a tool call
 * never separated from its result, the new turn always sent.
 */

const user = (text: string): ChatMessage => ({ role: 'user', content: text });
const answer = (text: string): ChatMessage => ({ role: 'assistant', content: [{ type: 'text', text }] });
const calls = (text: string, ...ids: string[]): ChatMessage => ({
  role: 'assistant',
  content: [{ type: 'text', text }, ...ids.map((id): ContentBlock => ({ type: 'tool_use', toolUseId: id, name: 'lookup', input: { q: id } }))],
});
const results = (...ids: string[]): ChatMessage => ({ role: 'user', content: ids.map((id): ContentBlock => ({ type: 'tool_result', toolUseId: id, content: `result of ${id}` })) });
const tokens = (messages: readonly ChatMessage[]): number => estimatePromptTokens({ messages });

/** A message as a short line: `user: text`, `assistant: text + call t1`, `user: result t1`. */
function lineOf(m: ChatMessage): string {
  const content = typeof m.content === 'string' ? m.content : m.content.map((b) => (b.type === 'text' ? b.text : b.type === 'tool_use' ? `call ${b.toolUseId}` : b.type === 'tool_result' ? `result ${b.toolUseId}` : b.type)).join(' + ');
  return `${m.role}: ${content}`;
}
const lines = (messages: readonly ChatMessage[]): string[] => messages.map(lineOf);

const idsOf = (m: ChatMessage | undefined, type: 'tool_use' | 'tool_result'): string[] =>
  m === undefined || typeof m.content === 'string' ? [] : m.content.flatMap((b) => (b.type === type && (b.type === 'tool_use' || b.type === 'tool_result') ? [b.toolUseId] : []));

/** What a provider requires of a history: user first, roles alternating, every result right after its call and every call answered in the next message. */
function wellFormed(messages: readonly ChatMessage[]): string[] {
  const problems: string[] = [];
  if (messages[0]?.role !== 'user') problems.push('does not start with the user');
  if (idsOf(messages[0], 'tool_result').length > 0) problems.push('starts with a tool result');
  messages.forEach((m, i) => {
    if (i > 0 && messages[i - 1]!.role === m.role) problems.push(`two ${m.role} messages in a row at ${i}`);
    const answered = idsOf(m, 'tool_result');
    const asked = idsOf(messages[i - 1], 'tool_use');
    for (const id of answered) if (!asked.includes(id)) problems.push(`result ${id} at ${i} without its call before it`);
    const next = messages[i + 1];
    if (m.role === 'assistant' && next !== undefined) for (const id of idsOf(m, 'tool_use')) if (!idsOf(next, 'tool_result').includes(id)) problems.push(`call ${id} at ${i} unanswered`);
  });
  return problems;
}

describe('fitHistory: the history the model reads beside the new turn', () => {
  // Six messages of three exchanges; the last holds a call and its result.
  const history = [user('first question'), answer('first answer'), user('second question'), calls('let me look', 't1'), results('t1'), answer('found it')];
  const added = [user('third question')];

  it('keeps the whole history when it fits, nothing dropped', () => {
    expect(fitHistory(history, added, tokens([...history, ...added]))).toEqual({ messages: [...history, ...added], dropped: 0 });
  });

  it('leaves out whole exchanges, oldest first, and counts the messages left out', () => {
    const fromSecond = history.slice(2);
    const fitted = fitHistory(history, added, tokens([...fromSecond, ...added]));
    expect(lines(fitted.messages)).toEqual(['user: second question', 'assistant: let me look + call t1', 'user: result t1', 'assistant: found it', 'user: third question']);
    expect(fitted.dropped).toBe(2);
    // One token less: the exchange holding the call goes whole — never its answer and result alone.
    const tighter = fitHistory(history, added, tokens([...fromSecond, ...added]) - 1);
    expect(tighter).toEqual({ messages: added, dropped: 6 });
    expect(tokens([results('t1'), answer('found it'), ...added])).toBeLessThan(tokens([...fromSecond, ...added]) - 1);
  });

  it('always keeps the new turn, even when it alone exceeds the budget: the whole history is then left out', () => {
    expect(fitHistory(history, added, 1)).toEqual({ messages: added, dropped: history.length });
    expect(fitHistory([], added, 1)).toEqual({ messages: added, dropped: 0 });
  });

  it('never sends the results of the new turn without the call they answer, however small the budget', () => {
    const asked = [user('first question'), answer('first answer'), user('look both up'), calls('looking', 't1', 't2')];
    const answering = [results('t1', 't2')];
    // Room for everything but the first exchange: it goes.
    const roomy = fitHistory(asked, answering, tokens([...asked.slice(2), ...answering]));
    expect(roomy).toEqual({ messages: [...asked.slice(2), ...answering], dropped: 2 });
    // Room for the results alone: the exchange holding their calls is kept anyway.
    for (const budget of [tokens(answering), 1]) {
      const fitted = fitHistory(asked, answering, budget);
      expect(lines(fitted.messages)).toEqual(['user: look both up', 'assistant: looking + call t1 + call t2', 'user: result t1 + result t2']);
      expect(fitted.dropped).toBe(2);
    }
  });

  it('keeps a chain of calls whole: an exchange runs from a question to the next question', () => {
    const chain = [user('q1'), answer('a1'), user('plan a trip'), calls('step one', 't1'), results('t1'), calls('step two', 't2'), results('t2'), answer('done planning')];
    const next = [user('q3')];
    const fromTrip = chain.slice(2);
    expect(fitHistory(chain, next, tokens([...fromTrip, ...next]))).toEqual({ messages: [...fromTrip, ...next], dropped: 2 });
    expect(fitHistory(chain, next, tokens([...fromTrip, ...next]) - 1)).toEqual({ messages: next, dropped: chain.length });
  });

  it('holds for any history, new turn and budget: the newest kept, the oldest dropped first, nothing split, within the budget when it can be', () => {
    /** A random well-formed history: exchanges of a question, then calls and results, then an answer (the last may end at its calls). */
    const exchange = fc.record({ question: fc.string({ minLength: 1, maxLength: 60 }), calls: fc.array(fc.nat({ max: 2 }), { maxLength: 3 }), answer: fc.string({ minLength: 1, maxLength: 80 }) });
    let next = 0;
    const build = (exchanges: Array<{ question: string; calls: number[]; answer: string }>, endAtCalls: boolean): { history: ChatMessage[]; added: ChatMessage[] } => {
      const out: ChatMessage[] = [];
      exchanges.forEach((e, i) => {
        out.push(user(`q: ${e.question}`));
        for (const n of e.calls) {
          const ids = Array.from({ length: n + 1 }, () => `t${(next += 1)}`);
          out.push(calls(e.answer.slice(0, 10), ...ids), results(...ids));
        }
        if (!(endAtCalls && i === exchanges.length - 1)) out.push(answer(e.answer));
      });
      if (endAtCalls) {
        const ids = [`t${(next += 1)}`];
        out.push(calls('calling', ...ids));
        return { history: out, added: [results(...ids)] };
      }
      return { history: out, added: [user('the new question')] };
    };
    fc.assert(
      fc.property(fc.array(exchange, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.nat({ max: 400 }), (exchanges, endAtCalls, budget) => {
        const { history: h, added: a } = build(exchanges, endAtCalls);
        const { messages, dropped } = fitHistory(h, a, budget);
        // The new turn, after what is kept of the history: its newest part, from `dropped` on.
        expect(messages).toEqual([...h.slice(dropped), ...a]);
        expect(wellFormed(messages)).toEqual([]);
        const starts = h.flatMap((m, i) => (m.role === 'user' && idsOf(m, 'tool_result').length === 0 ? [i] : []));
        // It cuts only where an exchange starts (or after the history, when the new turn is a question).
        expect([...starts, ...(endAtCalls ? [] : [h.length])]).toContain(dropped);
        // It keeps as much as fits: the exchange before the cut would not have.
        const before = starts.filter((s) => s < dropped).at(-1);
        if (before !== undefined) expect(tokens([...h.slice(before), ...a])).toBeGreaterThan(budget);
        // Within the budget — unless even the least it may send (the new turn, and the calls it answers) exceeds it.
        const least = endAtCalls ? tokens([...h.slice(starts.at(-1)), ...a]) : tokens(a);
        if (least <= budget) expect(tokens(messages)).toBeLessThanOrEqual(budget);
      }),
      { seed: seedFromEnv(), numRuns: 300 },
    );
  });
});

describe('turnsOf: a conversation’s stored messages as a model’s history', () => {
  let index = 0;
  const stored = (role: 'user' | 'assistant', content: StoredMessage['content'], status?: StoredMessage['status']): StoredMessage => ({
    index: (index += 1),
    role,
    content,
    createdAt: 0,
    requestId: 'r',
    jobId: `j${index}`,
    ...(status !== undefined ? { status } : {}),
  });
  const asked = (text: string): StoredMessage => stored('user', text);
  const said = (text: string, status: StoredMessage['status'] = 'complete'): StoredMessage => stored('assistant', text === '' ? [] : [{ type: 'text', text }], status);

  it('starts at a question when the history’s head is gone (a retention): leading results without their calls are left out', () => {
    const result = (id: string): ContentBlock => ({ type: 'tool_result', toolUseId: id, content: `result of ${id}` });
    expect(turnsOf([stored('user', [result('t1')]), said('after the call'), asked('next')])).toEqual([user('next')]);
    expect(turnsOf([stored('user', [result('t1'), { type: 'text', text: 'and also' }]), said('ok')])).toEqual([{ role: 'user', content: [{ type: 'text', text: 'and also' }] }, answer('ok')]);
  });

  it('keeps a whole conversation as it is: alternating, user first, content and order unchanged', () => {
    const turns = turnsOf([asked('q1'), said('a1'), asked('q2'), said('a2')]);
    expect(turns).toEqual([user('q1'), answer('a1'), user('q2'), answer('a2')]);
  });

  it('leaves out an answer that ended with nothing, and the question it answered when the user asked again', () => {
    expect(lines(turnsOf([asked('q1'), said('', 'failed'), asked('q1 again'), said('a1')]))).toEqual(['user: q1 again', 'assistant: a1']);
    expect(lines(turnsOf([asked('q1'), said('a1'), asked('q2'), said('', 'interrupted'), asked('q3')]))).toEqual(['user: q1', 'assistant: a1', 'user: q3']);
    // A blank text answer is nothing too.
    expect(lines(turnsOf([asked('q1'), stored('assistant', '   ', 'failed'), asked('q2')]))).toEqual(['user: q2']);
  });

  it('keeps what a cut answer holds: it is what the user saw', () => {
    expect(lines(turnsOf([asked('q1'), said('half an ans', 'cancelled'), asked('go on')]))).toEqual(['user: q1', 'assistant: half an ans', 'user: go on']);
  });

  it('keeps the last of consecutive user messages', () => {
    expect(lines(turnsOf([asked('q1'), asked('q2'), asked('q3')]))).toEqual(['user: q3']);
  });

  it('merges the tool results of a user message into the next one when the answer between them left nothing: the call keeps its result', () => {
    const turns = turnsOf([asked('look it up'), stored('assistant', calls('looking', 't1').content), stored('user', results('t1').content), said('', 'failed'), asked('well?')]);
    expect(lines(turns)).toEqual(['user: look it up', 'assistant: looking + call t1', 'user: result t1 + well?']);
    expect(wellFormed(turns)).toEqual([]);
  });

  it('starts with the user: an answer left first (an edit removed its question) is left out', () => {
    expect(lines(turnsOf([said('orphan'), asked('q1'), said('a1')]))).toEqual(['user: q1', 'assistant: a1']);
  });
});
