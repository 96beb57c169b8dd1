import { GatewayError } from '../../src/models/errors';
import { LIMITS } from '../../src/models/limits';
import { validateChatFrame } from '../../src/models/validate';

const frame = (data: Record<string, unknown>) => ({ action: 'llm/stream', requestId: 'r-1', data });
const TIME = { name: 'get_time', description: 'The time now', inputSchema: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] } };
const CALC = { name: 'calculator', inputSchema: { type: 'object', properties: { expression: { type: 'string' } } } };
const call = (toolUseId: string, name = 'get_time', input: Record<string, unknown> = { zone: 'UTC' }) => ({ type: 'tool_use', toolUseId, name, input });
const result = (toolUseId: string, content: unknown = '12:00') => ({ type: 'tool_result', toolUseId, content });

/** The full loop: question, the model's two calls, their results. */
const loop = (): Array<Record<string, unknown>> => [
  { role: 'user', content: 'time and 6*7?' },
  { role: 'assistant', content: [{ type: 'text', text: 'Calling both.' }, call('t1'), call('t2', 'calculator', { expression: '6*7' })] },
  { role: 'user', content: [result('t1'), result('t2', [{ type: 'text', text: '42' }])] },
];

function refusal(data: Record<string, unknown>): string {
  try {
    validateChatFrame(frame(data));
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'invalid_request') return error.message;
    throw error;
  }
  throw new Error('expected invalid_request');
}

describe('validateChatFrame with tools and content blocks', () => {
  it('accepts tools, a toolChoice, and a history of calls answered by results (string or text blocks, isError)', () => {
    const valid = validateChatFrame(frame({ messages: loop(), tools: [TIME, CALC], toolChoice: { name: 'calculator' } }));
    expect(valid.data.tools).toHaveLength(2);
    expect(validateChatFrame(frame({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [TIME], toolChoice: 'any' })).data.toolChoice).toBe('any');
    const failed = loop();
    failed[2] = { role: 'user', content: [{ ...result('t1', 'zone unknown'), isError: true }, result('t2')] };
    expect(() => validateChatFrame(frame({ messages: failed }))).not.toThrow();
  });

  it.each([
    ['an unknown block type', { messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] }, 'data.messages[0].content[0].type must be one of "text", "tool_use", "tool_result"'],
    ['a block field of the wrong type', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ ...call('t1'), input: 'zone=UTC' }] }, { role: 'user', content: [result('t1')] }] }, 'data.messages[1].content[0].input must be a JSON object'],
    ['an extra field in a block', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache: true }] }] }, 'data.messages[0].content[0]'],
    ['an empty block list', { messages: [{ role: 'user', content: [] }] }, 'data.messages[0].content must hold 1 to 64 content blocks'],
    ['a tool_use in a user turn', { messages: [{ role: 'user', content: [call('t1')] }] }, 'data.messages[0].content[0] is a "tool_use" block, which only assistant turns may carry'],
    ['a tool_result in an assistant turn', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [result('t1')] }, { role: 'user', content: 'x' }] }, 'data.messages[1].content[0] is a "tool_result" block, which only user turns may carry'],
    ['a call left unanswered', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [call('t1'), call('t2')] }, { role: 'user', content: [result('t1')] }] }, 'data.messages[2] must answer every tool_use of data.messages[1] with a tool_result: missing "t2"'],
    ['a result answering no call', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [call('t1')] }, { role: 'user', content: [result('t1'), result('t9')] }] }, 'data.messages[2].content[1].toolUseId "t9" answers no tool_use of the assistant turn before it (data.messages[1])'],
    ['a call answered twice', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [call('t1')] }, { role: 'user', content: [result('t1'), result('t1')] }] }, 'data.messages[2].content[1].toolUseId "t1" is answered twice'],
    ['a call id used twice', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [call('t1'), call('t1')] }, { role: 'user', content: [result('t1')] }] }, 'data.messages[1].content[1].toolUseId "t1" is used twice in this turn'],
    ['a result of a call from an earlier turn', { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [call('t1')] }, { role: 'user', content: [result('t1')] }, { role: 'assistant', content: 'ok' }, { role: 'user', content: [result('t1')] }] }, 'data.messages[4].content[0].toolUseId "t1" answers no tool_use'],
    ['a tool name with a space', { messages: [{ role: 'user', content: 'q' }], tools: [{ ...TIME, name: 'get time' }] }, 'data.tools[0].name must be 1-64 characters of A-Z a-z 0-9 _ -'],
    ['a tool declared twice', { messages: [{ role: 'user', content: 'q' }], tools: [TIME, TIME] }, 'data.tools[1].name "get_time" is declared twice'],
    ['an input schema that is not an object schema', { messages: [{ role: 'user', content: 'q' }], tools: [{ ...TIME, inputSchema: { type: 'string' } }] }, 'data.tools[0].inputSchema.type must be "object"'],
    ['a description over its limit', { messages: [{ role: 'user', content: 'q' }], tools: [{ ...TIME, description: 'd'.repeat(LIMITS.maxToolDescriptionChars + 1) }] }, `data.tools[0].description must be a string of at most ${LIMITS.maxToolDescriptionChars} characters`],
    ['too many tools', { messages: [{ role: 'user', content: 'q' }], tools: Array.from({ length: 65 }, (_, i) => ({ ...TIME, name: `t${i}` })) }, 'data.tools must be an array of 1 to 64 tools'],
    ['a huge input schema', { messages: [{ role: 'user', content: 'q' }], tools: [{ ...TIME, inputSchema: { type: 'object', description: 'x'.repeat(LIMITS.maxToolSchemaBytes) } }] }, `data.tools[0].inputSchema must serialise to at most ${LIMITS.maxToolSchemaBytes} bytes of JSON`],
    ['a toolChoice naming no tool', { messages: [{ role: 'user', content: 'q' }], tools: [TIME], toolChoice: { name: 'calculator' } }, 'data.toolChoice.name "calculator" is not one of data.tools'],
    ['a toolChoice without tools', { messages: [{ role: 'user', content: 'q' }], toolChoice: 'any' }, 'data.toolChoice needs data.tools'],
    ['an unknown toolChoice', { messages: [{ role: 'user', content: 'q' }], tools: [TIME], toolChoice: 'none' }, 'data.toolChoice must be "auto", "any" or { "name": "<a tool in data.tools>" }'],
  ])('refuses %s, naming the field', (_what, data, message) => {
    expect(refusal(data)).toContain(message);
  });

  it('counts every block toward the limits: a tool result over the message limit, and results toward the whole prompt', () => {
    const big = 'r'.repeat(LIMITS.maxMessageChars + 1);
    const messages = loop();
    messages[2] = { role: 'user', content: [result('t1', big), result('t2')] };
    expect(refusal({ messages })).toContain(`data.messages[2].content must be at most ${LIMITS.maxMessageChars} characters, every block counted`);
    const half = 'r'.repeat(LIMITS.maxMessageChars - 100);
    const many = [{ role: 'user', content: half }, { role: 'assistant', content: [call('t1', 'get_time', { zone: half })] }, { role: 'user', content: [result('t1', 'x')] }];
    expect(refusal({ messages: many })).toMatch(/together must be at most 120000 characters/);
  });

  it('names the first message, not data.messages[-1], for a tool_result in it, and says what a result must answer', () => {
    const message = refusal({ messages: [{ role: 'user', content: [result('t1')] }] });
    expect(message).toContain('data.messages[0].content[0].toolUseId "t1" answers no tool_use');
    expect(message).toContain('a tool_result must answer a tool_use of the assistant turn before it');
    expect(message).not.toContain('[-1]');
  });

  it('checks the text inside blocks for lone surrogates too', () => {
    expect(refusal({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a\ud800b' }] }] })).toContain('data.messages[0].content must be valid Unicode text');
  });
});
