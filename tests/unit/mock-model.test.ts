import type { ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import { MockChatModel, mockAnswerTokens } from '../../src/llm/mock';
import { markdownAnswer } from '../../src/llm/mock-markdown';

async function collect(model: MockChatModel, request: ChatModelRequest, signal = new AbortController().signal) {
  const events: ChatModelEvent[] = [];
  for await (const event of model.stream(request, signal)) events.push(event);
  return events;
}

const request = (content: string, inferenceConfig: ChatModelRequest['inferenceConfig'] = {}): ChatModelRequest => ({
  modelId: 'mock.echo-v1',
  messages: [{ role: 'user', content }],
  inferenceConfig,
});

describe('MockChatModel', () => {
  const model = new MockChatModel({ tokenDelayMs: 0, answerTokens: 30 });

  it('streams a deterministic answer derived from the prompt, then usage', async () => {
    const first = await collect(model, request('Tell me about gateways'));
    const second = await collect(model, request('Tell me about gateways'));
    expect(first).toEqual(second);
    const text = first.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    expect(text).toBe(mockAnswerTokens('Tell me about gateways', 30).join(''));
    expect(text).toContain('Tell me about gateways');
    expect(first.at(-1)).toEqual({
      type: 'end',
      modelId: 'mock.echo-v1',
      stopReason: 'end_turn',
      usage: { inputTokens: 6, outputTokens: 30, totalTokens: 36 },
    });
  });

  it('answers mock.markdown-v1 in Markdown with its newlines kept: heading, lists, a fenced code block, a table', async () => {
    const events = await collect(model, { ...request('show me   markdown'), modelId: 'mock.markdown-v1' });
    const deltas = events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));
    const text = deltas.join('');
    expect(text).toBe(markdownAnswer('show me   markdown'));
    expect(text).toMatch(/^## About "show me markdown"\n/);
    expect(text).toMatch(/\n- [^\n]+\n- /);
    expect(text).toMatch(/\n```ts\n[\s\S]+\n```\n/);
    expect(text).toMatch(/\n\| Frame \| Sent by \| When \|\n\| --- \| --- \| --- \|\n/);
    // Streamed word by word, not as one piece, and not cut at the echo mock's answer length (30 here).
    expect(deltas.length).toBeGreaterThan(30);
    expect(events.at(-1)).toMatchObject({ modelId: 'mock.markdown-v1', stopReason: 'end_turn', usage: { outputTokens: deltas.length } });
    const cut = await collect(model, { ...request('x', { maxTokens: 4 }), modelId: 'mock.markdown-v1' });
    expect(cut.at(-1)).toMatchObject({ stopReason: 'max_tokens', usage: { outputTokens: 4 } });
  });

  it('honours maxTokens', async () => {
    const events = await collect(model, request('hi', { maxTokens: 5 }));
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(5);
    expect(events.at(-1)).toMatchObject({ stopReason: 'max_tokens', usage: { outputTokens: 5 } });
  });

  it('stops before a stop sequence and leaves it out', async () => {
    const events = await collect(model, request('hi', { stopSequences: ['"hi"'] }));
    const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    expect(text).toBe('You said: ');
    expect(events.at(-1)).toMatchObject({ stopReason: 'stop_sequence' });
  });

  it('stops at once when aborted — no delta after the abort — and never ends an aborted stream with `end`', async () => {
    const slow = new MockChatModel({ tokenDelayMs: 20, answerTokens: 10_000 });
    const controller = new AbortController();
    const events: ChatModelEvent[] = [];
    let atAbort = 0;
    await expect(
      (async () => {
        for await (const event of slow.stream(request('hi'), controller.signal)) {
          events.push(event);
          if (events.length === 2) {
            atAbort = events.length;
            controller.abort(new Error('stop'));
          }
        }
      })(),
    ).rejects.toThrow();
    expect(events).toHaveLength(atAbort);
    expect(events.some((e) => e.type === 'end')).toBe(false);
  });
});
