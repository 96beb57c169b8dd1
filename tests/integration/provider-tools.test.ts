import type { BedrockEmulator } from '../helpers/bedrock-emulator';
import type { OpenAiStandIn } from '../helpers/openai-standin';
import { NOVA, startTwoProviders, type TwoProviders } from '../helpers/two-providers';
import type { Frame, TestClient } from '../helpers/ws-client';

/**
 * Tool calls on both providers, end to end through the gateway with the real SDKs against their
 * wire-level stand-ins: what each is sent (tools, choice, calls and results in the history), how
 * their streamed calls come back (Bedrock by content block, OpenAI by index), a model without
 * tool support, a stream broken mid-call, and a fallback across providers that keeps the tools.
 */
const TIME = { name: 'get_time', description: 'The time in a zone', inputSchema: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] } };
const CALC = { name: 'calculator', inputSchema: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] } };

const seqText = (frames: Frame[]) => frames.filter((f) => f.type === 'chunk').map((f) => f.content as string).join('');
const callsOf = (frames: Frame[]) => {
  const calls = new Map<string, { name: string; input: string }>();
  for (const f of frames.filter((x) => x.type === 'tool_use')) {
    const c = calls.get(f.toolUseId as string) ?? { name: f.name as string, input: '' };
    c.input += f.inputDelta as string;
    calls.set(f.toolUseId as string, c);
  }
  return [...calls.entries()].map(([id, c]) => ({ id, ...c }));
};

describe('tool calls on Bedrock and an OpenAI-compatible server, through the gateway', () => {
  let bedrock: BedrockEmulator;
  let server: OpenAiStandIn;
  let client: TestClient;
  let both: TwoProviders;

  beforeAll(async () => {
    both = await startTwoProviders(`${NOVA}=gpt-test`, { STREAM_FLUSH_INTERVAL_MS: '0' });
    ({ bedrock, server, client } = both);
  });
  afterAll(() => both.stop());
  beforeEach(() => {
    bedrock.requests.length = 0;
    server.requests.length = 0;
  });

  let counter = 0;
  async function ask(modelId: string, data: Record<string, unknown>): Promise<{ frames: Frame[]; end: Frame }> {
    const id = `p-${(counter += 1)}`;
    client.send({ action: 'llm/stream', requestId: id, data: { modelId, ...data } });
    const end = await client.terminal(id, 10_000);
    return { frames: client.of(id), end };
  }

  it('Bedrock: text, then two calls streamed by content block; toolConfig and toolChoice sent; toolUses in order', async () => {
    bedrock.scenario = () => ({
      kind: 'stream',
      stopReason: 'tool_use',
      tokens: ['Let me ', 'check. ', { toolUse: { toolUseId: 'tooluse_A1', name: 'get_time' } }, { input: '{"zo' }, { input: 'ne":"UTC"}' }, { toolUse: { toolUseId: 'tooluse_B2', name: 'calculator' } }, { input: '{"expression":"6*7"}' }],
    });
    const { frames, end } = await ask(NOVA, { messages: [{ role: 'user', content: 'time and 6*7' }], tools: [TIME, CALC], toolChoice: 'any' });
    expect(seqText(frames)).toBe('Let me check. ');
    expect(callsOf(frames)).toEqual([
      { id: 'tooluse_A1', name: 'get_time', input: '{"zone":"UTC"}' },
      { id: 'tooluse_B2', name: 'calculator', input: '{"expression":"6*7"}' },
    ]);
    expect(end).toMatchObject({
      type: 'done',
      stopReason: 'tool_use',
      toolUses: [
        { toolUseId: 'tooluse_A1', name: 'get_time', input: { zone: 'UTC' } },
        { toolUseId: 'tooluse_B2', name: 'calculator', input: { expression: '6*7' } },
      ],
    });
    const sent = bedrock.requests[0]!.body;
    expect(sent.toolConfig).toEqual({
      tools: [
        { toolSpec: { name: 'get_time', description: 'The time in a zone', inputSchema: { json: TIME.inputSchema } } },
        { toolSpec: { name: 'calculator', inputSchema: { json: CALC.inputSchema } } },
      ],
      toolChoice: { any: {} },
    });
  });

  it('Bedrock: the loop back — calls and results (an error among them) reach the model as toolUse and toolResult blocks', async () => {
    bedrock.scenario = () => ({ kind: 'stream', tokens: ['It is ', 'noon.'] });
    const messages = [
      { role: 'user', content: 'time?' },
      { role: 'assistant', content: [{ type: 'tool_use', toolUseId: 'tooluse_A1', name: 'get_time', input: { zone: 'UTC' } }, { type: 'tool_use', toolUseId: 'tooluse_B2', name: 'get_time', input: { zone: 'Mars' } }] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: 'tooluse_A1', content: '12:00' }, { type: 'tool_result', toolUseId: 'tooluse_B2', content: 'no such zone', isError: true }] },
    ];
    const { end } = await ask(NOVA, { messages });
    expect(end).toMatchObject({ type: 'done', stopReason: 'end_turn' });
    expect(end).not.toHaveProperty('toolUses');
    const sent = bedrock.requests[0]!.body;
    expect(sent.messages?.[1]?.content).toEqual([
      { toolUse: { toolUseId: 'tooluse_A1', name: 'get_time', input: { zone: 'UTC' } } },
      { toolUse: { toolUseId: 'tooluse_B2', name: 'get_time', input: { zone: 'Mars' } } },
    ]);
    expect(sent.messages?.[2]?.content).toEqual([
      { toolResult: { toolUseId: 'tooluse_A1', content: [{ text: '12:00' }], status: 'success' } },
      { toolResult: { toolUseId: 'tooluse_B2', content: [{ text: 'no such zone' }], status: 'error' } },
    ]);
    // No tools this turn, but the history has calls: Bedrock gets the toolConfig it requires.
    expect(sent.toolConfig?.tools.map((t) => t.toolSpec.name)).toEqual(['get_time']);
  });

  it('Bedrock: a model without tool use is invalid_request saying so, not upstream_error', async () => {
    bedrock.scenario = () => ({ kind: 'http-error', status: 400, errorType: 'ValidationException', message: "This model doesn't support tool use." });
    const { end } = await ask(NOVA, { messages: [{ role: 'user', content: 'hi' }], tools: [TIME] });
    expect(end).toMatchObject({ type: 'error', code: 'invalid_request', retryable: false });
    expect(end.message).toMatch(new RegExp(`The model "${NOVA.replace(/[.:]/g, '\\$&')}" does not support tool use, or this toolChoice, on Amazon Bedrock`));
  });

  it('Bedrock: a stream broken in the middle of a call ends with one error after the partial frames, and no toolUses', async () => {
    bedrock.scenario = () => ({ kind: 'exception', tokens: [{ toolUse: { toolUseId: 'tooluse_C3', name: 'get_time' } }, { input: '{"zone"' }, { input: ':"UTC"}' }], after: 2, exception: 'modelStreamErrorException' });
    const { frames, end } = await ask(NOVA, { messages: [{ role: 'user', content: 'time?' }], tools: [TIME] });
    expect(callsOf(frames)).toEqual([{ id: 'tooluse_C3', name: 'get_time', input: '{"zone"' }]);
    expect(end).toMatchObject({ type: 'error', code: 'upstream_error', retryable: true });
    expect(frames.filter((f) => f.type === 'done' || f.type === 'error')).toHaveLength(1);
  });

  it('OpenAI: calls accumulated by index (later deltas carry no id or name), finish_reason tool_calls → tool_use; tools and tool_choice sent', async () => {
    server.scenario = () => ({
      kind: 'stream',
      finishReason: 'tool_calls',
      tokens: [
        { call: 0, id: 'call_abc', name: 'get_time', arguments: '' },
        { call: 0, arguments: '{"zone":' },
        { call: 1, id: 'call:def/2', name: 'calculator', arguments: '{"expr' },
        { call: 0, arguments: '"UTC"}' },
        { call: 1, arguments: 'ession":"6*7"}' },
      ],
    });
    const { frames, end } = await ask('gpt-test', { messages: [{ role: 'user', content: 'time and 6*7' }], tools: [TIME, CALC], toolChoice: { name: 'get_time' } });
    expect(callsOf(frames)).toEqual([
      { id: 'call_abc', name: 'get_time', input: '{"zone":"UTC"}' },
      // An id outside the protocol's pattern is made to fit, so the client can send it back.
      { id: 'call_def_2', name: 'calculator', input: '{"expression":"6*7"}' },
    ]);
    expect(end).toMatchObject({ type: 'done', stopReason: 'tool_use', toolUses: [{ toolUseId: 'call_abc', input: { zone: 'UTC' } }, { toolUseId: 'call_def_2', input: { expression: '6*7' } }] });
    const body = server.requests[0]!.body;
    expect(body['tools']).toEqual([
      { type: 'function', function: { name: 'get_time', description: 'The time in a zone', parameters: TIME.inputSchema } },
      { type: 'function', function: { name: 'calculator', parameters: CALC.inputSchema } },
    ]);
    expect(body['tool_choice']).toEqual({ type: 'function', function: { name: 'get_time' } });
  });

  it('OpenAI: the loop back as assistant tool_calls and one role-tool message per result', async () => {
    server.scenario = () => ({ kind: 'stream', tokens: ['Noon.'] });
    const messages = [
      { role: 'user', content: 'time?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', toolUseId: 'call_abc', name: 'get_time', input: { zone: 'UTC' } }, { type: 'tool_use', toolUseId: 'call_def', name: 'calculator', input: { expression: '1/0' } }] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: 'call_abc', content: '12:00' }, { type: 'tool_result', toolUseId: 'call_def', content: 'division by zero', isError: true }] },
    ];
    const { end } = await ask('gpt-test', { messages, tools: [TIME, CALC] });
    expect(end).toMatchObject({ type: 'done', stopReason: 'end_turn' });
    expect(server.requests[0]!.body.messages?.slice(1)).toEqual([
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_time', arguments: '{"zone":"UTC"}' } }, { id: 'call_def', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1/0"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: '12:00' },
      { role: 'tool', tool_call_id: 'call_def', content: 'Error: division by zero' },
    ]);
  });

  it('OpenAI: a connection cut in the middle of a call ends with one error, the partial call only in its frames', async () => {
    server.scenario = () => ({ kind: 'break', tokens: [{ call: 0, id: 'call_x', name: 'get_time', arguments: '{"zo' }, { call: 0, arguments: 'ne":"UTC"}' }], after: 1 });
    const { frames, end } = await ask('gpt-test', { messages: [{ role: 'user', content: 'time?' }], tools: [TIME] });
    expect(callsOf(frames)).toEqual([{ id: 'call_x', name: 'get_time', input: '{"zo' }]);
    expect(end).toMatchObject({ type: 'error', code: 'upstream_error' });
  });

  it('falls back from Bedrock to the OpenAI-compatible model with the tools', async () => {
    bedrock.scenario = () => ({ kind: 'http-error', status: 429, errorType: 'ThrottlingException' });
    server.scenario = () => ({ kind: 'stream', finishReason: 'tool_calls', tokens: [{ call: 0, id: 'call_fb', name: 'get_time', arguments: '{"zone":"UTC"}' }] });
    const { end } = await ask(NOVA, { messages: [{ role: 'user', content: 'time?' }], tools: [TIME], toolChoice: 'any' });
    expect(end).toMatchObject({ type: 'done', modelId: 'gpt-test', stopReason: 'tool_use', toolUses: [{ toolUseId: 'call_fb', name: 'get_time', input: { zone: 'UTC' } }] });
    expect(server.requests[0]!.body['tools']).toHaveLength(1);
    expect(server.requests[0]!.body['tool_choice']).toBe('required');
  });
});
