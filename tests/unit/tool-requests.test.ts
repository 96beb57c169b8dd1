import type { ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import { toConverseInput } from '../../src/llm/bedrock-request';
import { MockChatModel } from '../../src/llm/mock';
import { sampleOf } from '../../src/llm/mock-tools';
import { toChatCompletionsRequest } from '../../src/llm/openai-request';
import { estimatePromptTokens } from '../../src/llm/tokens';
import type { ModelMessage } from '../../src/models/content';
import type { Tool } from '../../src/models/protocol';

const TIME: Tool = { name: 'get_time', description: 'The time now', inputSchema: { type: 'object', properties: { zone: { type: 'string', examples: ['UTC'] } }, required: ['zone'] } as Tool['inputSchema'] };
const CALC: Tool = { name: 'calculator', inputSchema: { type: 'object', properties: { expression: { type: 'string' }, precision: { type: 'integer', minimum: 2 } }, required: ['expression', 'precision'] } as Tool['inputSchema'] };
const HISTORY: ModelMessage[] = [
  { role: 'user', content: 'time and 6*7?' },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Calling both.' },
      { type: 'tool_use', toolUseId: 't1', name: 'get_time', input: { zone: 'UTC' } },
      { type: 'tool_use', toolUseId: 't2', name: 'calculator', input: { expression: '6*7' } },
    ],
  },
  {
    role: 'user',
    content: [
      { type: 'tool_result', toolUseId: 't1', content: 'unknown zone', isError: true },
      { type: 'tool_result', toolUseId: 't2', content: '' },
      { type: 'text', text: 'and?' },
    ],
  },
];
const request = (extra: Partial<ChatModelRequest> = {}): ChatModelRequest => ({ modelId: 'm', messages: HISTORY, inferenceConfig: {}, ...extra });

describe('tool calls as each provider is asked', () => {
  it('Bedrock: toolConfig with toolSpec and toolChoice; toolUse and toolResult blocks (error status, never empty)', () => {
    const input = toConverseInput(request({ tools: [TIME, CALC], toolChoice: 'any' }));
    expect(input.toolConfig).toEqual({
      tools: [
        { toolSpec: { name: 'get_time', description: 'The time now', inputSchema: { json: TIME.inputSchema } } },
        { toolSpec: { name: 'calculator', inputSchema: { json: CALC.inputSchema } } },
      ],
      toolChoice: { any: {} },
    });
    expect(input.messages?.[1]?.content).toEqual([
      { text: 'Calling both.' },
      { toolUse: { toolUseId: 't1', name: 'get_time', input: { zone: 'UTC' } } },
      { toolUse: { toolUseId: 't2', name: 'calculator', input: { expression: '6*7' } } },
    ]);
    expect(input.messages?.[2]?.content).toEqual([
      { toolResult: { toolUseId: 't1', content: [{ text: 'unknown zone' }], status: 'error' } },
      { toolResult: { toolUseId: 't2', content: [{ text: '(no output)' }], status: 'success' } },
      { text: 'and?' },
    ]);
    expect(toConverseInput(request({ tools: [TIME], toolChoice: { name: 'get_time' } })).toolConfig?.toolChoice).toEqual({ tool: { name: 'get_time' } });
    expect(toConverseInput(request({ tools: [TIME], toolChoice: 'auto' })).toolConfig?.toolChoice).toBeUndefined();
  });

  it('Bedrock: a history with calls but no tools this turn still gets the toolConfig Bedrock requires', () => {
    const input = toConverseInput(request());
    expect(input.toolConfig?.tools?.map((t) => t.toolSpec?.name)).toEqual(['get_time', 'calculator']);
    expect(toConverseInput({ modelId: 'm', messages: [{ role: 'user', content: 'hi' }], inferenceConfig: {} }).toolConfig).toBeUndefined();
  });

  it('OpenAI: tools as functions, tool_choice required or named, assistant tool_calls, one role-tool message per result before the user’s text', () => {
    const body = toChatCompletionsRequest(request({ tools: [TIME, CALC], toolChoice: 'any', systemPrompt: 'be brief' }), 'max_tokens');
    expect(body.tools).toEqual([
      { type: 'function', function: { name: 'get_time', description: 'The time now', parameters: TIME.inputSchema } },
      { type: 'function', function: { name: 'calculator', parameters: CALC.inputSchema } },
    ]);
    expect(body.tool_choice).toBe('required');
    expect(body.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'time and 6*7?' },
      {
        role: 'assistant',
        content: 'Calling both.',
        tool_calls: [
          { id: 't1', type: 'function', function: { name: 'get_time', arguments: '{"zone":"UTC"}' } },
          { id: 't2', type: 'function', function: { name: 'calculator', arguments: '{"expression":"6*7"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 't1', content: 'Error: unknown zone' },
      { role: 'tool', tool_call_id: 't2', content: '' },
      { role: 'user', content: 'and?' },
    ]);
    expect(toChatCompletionsRequest(request({ tools: [TIME], toolChoice: { name: 'get_time' } }), 'max_tokens').tool_choice).toEqual({ type: 'function', function: { name: 'get_time' } });
    expect(toChatCompletionsRequest(request(), 'max_tokens')).not.toHaveProperty('tools');
  });
});

describe('the token estimate with tools', () => {
  it('counts the tool definitions and every block (calls’ inputs, results) as prompt tokens', () => {
    const plain: ChatModelRequest = { modelId: 'm', messages: [{ role: 'user', content: 'q' }], inferenceConfig: {} };
    expect(estimatePromptTokens({ ...plain, tools: [TIME, CALC] })).toBe(estimatePromptTokens(plain) + Math.ceil(JSON.stringify([TIME, CALC]).length / 4));
    const history = estimatePromptTokens(request());
    expect(history).toBeGreaterThan(estimatePromptTokens({ ...plain, messages: [{ role: 'user', content: 'time and 6*7?' }, { role: 'assistant', content: 'Calling both.' }, { role: 'user', content: 'and?' }] }) + 10);
  });
});

describe('the mock model with tools', () => {
  const model = new MockChatModel({ tokenDelayMs: 0, answerTokens: 20 });
  async function run(req: ChatModelRequest): Promise<ChatModelEvent[]> {
    const events: ChatModelEvent[] = [];
    for await (const event of model.stream(req, new AbortController().signal)) events.push(event);
    return events;
  }
  const calls = (events: ChatModelEvent[]) => {
    const byId = new Map<string, { name: string; input: string }>();
    for (const e of events) if (e.type === 'tool_delta') byId.set(e.toolUseId, { name: e.name, input: (byId.get(e.toolUseId)?.input ?? '') + e.inputDelta });
    return [...byId.values()].map((c) => ({ name: c.name, input: JSON.parse(c.input) as unknown }));
  };
  const ask = (text: string, extra: Partial<ChatModelRequest> = {}): ChatModelRequest => ({ modelId: 'mock.echo-v1', messages: [{ role: 'user', content: text }], inferenceConfig: {}, tools: [TIME, CALC], ...extra });

  it('builds a call’s input from its schema: examples, defaults, enums, then a sample of each required type', () => {
    expect(sampleOf(TIME.inputSchema)).toEqual({ zone: 'UTC' });
    expect(sampleOf(CALC.inputSchema)).toEqual({ expression: 'sample', precision: 2 });
    expect(sampleOf({ type: 'object', required: ['a', 'b', 'c', 'd'], properties: { a: { enum: ['x'] }, b: { type: 'boolean' }, c: { type: 'array' }, d: { type: 'object', required: ['e'], properties: { e: { type: 'number' } } } } })).toEqual({ a: 'x', b: true, c: [], d: { e: 42 } });
  });

  it('calls the tools the question names — text first, each input in pieces — and stops with tool_use', async () => {
    const events = await run(ask('what does get_time say, and calculator?'));
    expect(events.filter((e) => e.type === 'delta').map((e) => (e.type === 'delta' ? e.text : '')).join('')).toBe('Calling get_time and calculator. ');
    expect(calls(events)).toEqual([{ name: 'get_time', input: { zone: 'UTC' } }, { name: 'calculator', input: { expression: 'sample', precision: 2 } }]);
    expect(events.filter((e) => e.type === 'tool_delta').length).toBeGreaterThanOrEqual(4);
    expect(events.at(-1)).toMatchObject({ type: 'end', stopReason: 'tool_use' });
    // Deterministic: the same question, the same ids.
    expect(await run(ask('what does get_time say, and calculator?'))).toEqual(events);
  });

  it('follows toolChoice: a named tool, or with "any" the first tool when none is named; without either, answers in text', async () => {
    expect(calls(await run(ask('hello', { toolChoice: { name: 'calculator' } }))).map((c) => c.name)).toEqual(['calculator']);
    expect(calls(await run(ask('hello', { toolChoice: 'any' }))).map((c) => c.name)).toEqual(['get_time']);
    const plain = await run(ask('hello'));
    expect(plain.some((e) => e.type === 'tool_delta')).toBe(false);
    expect(plain.at(-1)).toMatchObject({ stopReason: 'end_turn' });
  });

  it('answers tool results with text quoting each, and stops at maxTokens inside a call', async () => {
    const answer = await run({ modelId: 'mock.echo-v1', messages: HISTORY.slice(0, 2).concat([{ role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: '12:00' }, { type: 'tool_result', toolUseId: 't2', content: '42', isError: true }] }]), inferenceConfig: {} });
    expect(answer.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('')).toBe('From the tools: get_time returned "12:00"; calculator failed "42".');
    const cut = await run(ask('get_time please', { inferenceConfig: { maxTokens: 3 } }));
    expect(cut.at(-1)).toMatchObject({ stopReason: 'max_tokens', usage: { outputTokens: 3 } });
    expect(cut.some((e) => e.type === 'tool_delta')).toBe(true);
  });
});
