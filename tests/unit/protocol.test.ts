import { GatewayError } from '../../src/models/errors';
import { LIMITS } from '../../src/models/limits';
import { validateCancelFrame, validateChatFrame } from '../../src/models/validate';

const user = (content: string) => ({ role: 'user', content });
const frame = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  action: 'llm/stream',
  requestId: 'r-1',
  data,
  ...extra,
});

function failure(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('validateChatFrame', () => {
  it('accepts the request of ARCHITECTURE.md section 3', () => {
    const valid = validateChatFrame({
      action: 'llm/stream',
      requestId: 'r-1',
      data: {
        messages: [user('Hi')],
        modelId: 'mock.echo-v1',
        systemPrompt: 'Be brief',
        inferenceConfig: { maxTokens: 512, temperature: 0.7, topP: 0.9, stopSequences: [] },
        metadata: { optional: 'echoed back' },
      },
    });
    expect(valid.data.messages).toHaveLength(1);
  });

  it.each<[string, unknown, RegExp]>([
    ['missing data', { action: 'llm/stream' }, /data/],
    ['missing messages', frame({}), /data\.messages/],
    ['empty messages', frame({ messages: [] }), /data\.messages must be an array of 1 to 100 messages/],
    ['messages not an array', frame({ messages: 'hi' }), /data\.messages/],
    ['bad role', frame({ messages: [{ role: 'system', content: 'x' }] }), /data\.messages\[0\]\.role must be "user" or "assistant"/],
    ['content not a string', frame({ messages: [{ role: 'user', content: 42 }] }), /data\.messages\[0\]\.content/],
    ['empty content', frame({ messages: [user('')] }), /data\.messages\[0\]\.content must be a non-empty string/],
    ['oversized content', frame({ messages: [user('x'.repeat(LIMITS.maxMessageChars + 1))] }), /data\.messages\[0\]\.content/],
    ['too many messages', frame({ messages: Array.from({ length: 101 }, (_, i) => (i % 2 ? { role: 'assistant', content: 'a' } : user('u'))) }), /data\.messages must be an array of 1 to 100/],
    ['two user turns in a row', frame({ messages: [user('a'), user('b')] }), /data\.messages\[1\]\.role must be "assistant"/],
    ['starting with assistant', frame({ messages: [{ role: 'assistant', content: 'a' }, user('b')] }), /data\.messages\[0\]\.role must be "user"/],
    ['ending with assistant', frame({ messages: [user('a'), { role: 'assistant', content: 'b' }] }), /must end with a "user" message/],
    ['unknown field in data', frame({ messages: [user('a')], prompt: 'x' }), /data\.prompt/],
    ['temperature out of range', frame({ messages: [user('a')], inferenceConfig: { temperature: 3 } }), /data\.inferenceConfig\.temperature must be a number from 0 to 1/],
    ['maxTokens not an integer', frame({ messages: [user('a')], inferenceConfig: { maxTokens: 1.5 } }), /data\.inferenceConfig\.maxTokens must be a positive integer/],
    ['too many stop sequences', frame({ messages: [user('a')], inferenceConfig: { stopSequences: ['a', 'b', 'c', 'd', 'e'] } }), /stopSequences/],
    ['oversized system prompt', frame({ messages: [user('a')], systemPrompt: 'x'.repeat(LIMITS.maxSystemPromptChars + 1) }), /data\.systemPrompt/],
    ['oversized modelId', frame({ messages: [user('a')], modelId: 'm'.repeat(300) }), /data\.modelId/],
    ['metadata not an object', frame({ messages: [user('a')], metadata: [1, 2] }), /data\.metadata must be a JSON object/],
    ['a prompt over the total character cap', frame({ messages: [user('x'.repeat(70_000)), { role: 'assistant', content: 'ok' }, user('y'.repeat(60_000))] }), /together must be at most 120000 characters/],
    ['oversized metadata', frame({ messages: [user('a')], metadata: { blob: 'x'.repeat(3000) } }), /data\.metadata must serialise to at most 2048 bytes/],
    ['bad requestId', frame({ messages: [user('a')] }, { requestId: 'has space' }), /requestId must be 1-64 characters/],
    ['unknown top-level field', frame({ messages: [user('a')] }, { extra: true }), /extra/],
  ])('rejects %s as invalid_request naming the field', (_name, input, message) => {
    const error = failure(() => validateChatFrame(input));
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(message);
  });

  it('rejects metadata too deep to serialise without throwing anything else', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i += 1) deep = { d: deep };
    const error = failure(() => validateChatFrame(frame({ messages: [user('a')], metadata: deep })));
    expect(error.code).toBe('invalid_request');
  });
});

describe('validateCancelFrame', () => {
  it('requires the requestId to cancel', () => {
    expect(failure(() => validateCancelFrame({ action: 'llm/cancel' })).message).toMatch(/requestId/);
    expect(validateCancelFrame({ action: 'llm/cancel', requestId: 'r-1' }).requestId).toBe('r-1');
  });
});
