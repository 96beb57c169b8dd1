import { dataUrlBytes, toConversationTurn, toGatewayRequest, type UiMessage } from '../../client/src/ai-sdk/messages';
import { toUiMessages } from '../../client/src/ai-sdk/conversation-messages';

const noFiles = () => Promise.reject(new Error('no file expected'));

describe('UI messages (the AI SDK) as the gateway’s request', () => {
  it('system messages become the system prompt; text parts a string; file parts go through fileToBlock', async () => {
    const messages: UiMessage[] = [
      { id: 's', role: 'system', parts: [{ type: 'text', text: 'Be brief.' }] },
      { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }] },
      { id: 'a1', role: 'assistant', parts: [{ type: 'step-start' }, { type: 'reasoning', text: 'hidden' }, { type: 'text', text: 'hello' }] },
      { id: 'u2', role: 'user', parts: [{ type: 'text', text: 'look' }, { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AAAA' }] },
    ];
    const request = await toGatewayRequest(messages, (part) => Promise.resolve({ type: 'image', mediaType: part.mediaType!, data: 'AAAA' }));
    expect(request).toEqual({
      systemPrompt: 'Be brief.',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', mediaType: 'image/png', data: 'AAAA' }] },
      ],
    });
  });

  it('an assistant message of several steps: each step’s calls, then their results in a user turn; errors as isError; an unanswered call left out', async () => {
    const messages: UiMessage[] = [
      { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'time and 1/0' }] },
      {
        id: 'a1',
        role: 'assistant',
        parts: [
          { type: 'step-start' },
          { type: 'text', text: 'Calling.' },
          { type: 'tool-get_time', toolCallId: 't1', state: 'output-available', input: { zone: 'UTC' }, output: '12:00' },
          { type: 'dynamic-tool', toolName: 'calculator', toolCallId: 't2', state: 'output-error', input: { expression: '1/0' }, errorText: 'division by zero' },
          { type: 'step-start' },
          { type: 'text', text: 'Noon; 1/0 fails.' },
          { type: 'tool-get_time', toolCallId: 't3', state: 'input-available', input: { zone: 'X' } },
        ],
      },
      { id: 'u2', role: 'user', parts: [{ type: 'text', text: 'thanks' }] },
    ];
    expect((await toGatewayRequest(messages, noFiles)).messages).toEqual([
      { role: 'user', content: 'time and 1/0' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Calling.' },
          { type: 'tool_use', toolUseId: 't1', name: 'get_time', input: { zone: 'UTC' } },
          { type: 'tool_use', toolUseId: 't2', name: 'calculator', input: { expression: '1/0' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', toolUseId: 't1', content: '12:00' },
          { type: 'tool_result', toolUseId: 't2', content: 'division by zero', isError: true },
        ],
      },
      // The unanswered call (t3) is left out: the client has not run it.
      { role: 'assistant', content: 'Noon; 1/0 fails.' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  it('refuses a conversation that does not start with the user, and reads data URLs', async () => {
    await expect(toGatewayRequest([{ id: 'a', role: 'assistant', parts: [{ type: 'text', text: 'hi' }] }], noFiles)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(dataUrlBytes('data:text/plain;base64,aGk=')).toEqual(new Uint8Array([104, 105]));
    expect(dataUrlBytes('data:text/plain,h%69')).toEqual(new Uint8Array([104, 105]));
    expect(dataUrlBytes('https://example.com/x.png')).toBeUndefined();
  });
});

describe('UI messages and a conversation kept on the gateway', () => {
  const base = { createdAt: '2026-01-01T00:00:00.000Z', requestId: 'r' };

  it('a turn sends only the last message: a user message’s text and files, or the results of the last step’s calls (not an earlier step’s)', async () => {
    const file = () => Promise.resolve({ type: 'image' as const, attachmentId: 'att-1' });
    const question: UiMessage = { id: 'u', role: 'user', parts: [{ type: 'text', text: 'look' }, { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AAAA' }] };
    expect(await toConversationTurn([{ id: 's', role: 'system', parts: [{ type: 'text', text: 'Be brief.' }] }, question], file)).toEqual({
      systemPrompt: 'Be brief.',
      message: { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', attachmentId: 'att-1' }] },
    });
    const answer: UiMessage = {
      id: 'a',
      role: 'assistant',
      parts: [
        { type: 'step-start' },
        { type: 'tool-get_time', toolCallId: 't1', state: 'output-available', input: {}, output: 'old' },
        { type: 'step-start' },
        { type: 'tool-get_time', toolCallId: 't2', state: 'output-error', input: {}, errorText: 'no clock' },
      ],
    };
    expect(await toConversationTurn([question, answer], noFiles)).toEqual({ message: { role: 'user', content: [{ type: 'tool_result', toolUseId: 't2', content: 'no clock', isError: true }] } });
    // A last step whose calls have no output yet, or an answer with no calls: nothing new to send.
    const unanswered: UiMessage = { ...answer, parts: [...answer.parts.slice(0, 3), { type: 'tool-get_time', toolCallId: 't2', state: 'input-available', input: {} }] };
    await expect(toConversationTurn([question, unanswered], noFiles)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(toConversationTurn([question, { id: 'a', role: 'assistant', parts: [{ type: 'text', text: 'hi' }] }], noFiles)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('loaded messages: files as file parts, a failed call as output-error, an answer after results continuing the message, an empty cut answer kept', () => {
    const loaded = toUiMessages([
      { ...base, messageId: 'm0', role: 'user', content: [{ type: 'text', text: 'two files' }, { type: 'image', mediaType: 'image/png', data: 'AAAA' }, { type: 'document', attachmentId: 'd1', name: 'a.pdf' }, { type: 'image', attachmentId: 'i1' }] },
      { ...base, messageId: 'm1', role: 'assistant', status: 'complete', content: [{ type: 'tool_use', toolUseId: 't1', name: 'calc', input: { x: 1 } }] },
      { ...base, messageId: 'm2', role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: [{ type: 'text', text: 'boom' }], isError: true }] },
      { ...base, messageId: 'm3', role: 'assistant', status: 'complete', stopReason: 'end_turn', content: 'It failed.' },
      { ...base, messageId: 'm4', role: 'user', content: 'again' },
      { ...base, messageId: 'm6', role: 'assistant', status: 'cancelled', content: [] },
    ]);
    expect(loaded).toEqual([
      {
        id: 'm0',
        role: 'user',
        parts: [
          { type: 'text', text: 'two files', state: 'done' },
          { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AAAA' },
          { type: 'file', mediaType: 'application/octet-stream', url: 'gateway-attachment:d1', filename: 'a.pdf' },
          { type: 'file', mediaType: 'image/*', url: 'gateway-attachment:i1' },
        ],
      },
      {
        id: 'm1',
        role: 'assistant',
        parts: [{ type: 'step-start' }, { type: 'tool-calc', toolCallId: 't1', state: 'output-error', input: { x: 1 }, errorText: 'boom' }, { type: 'step-start' }, { type: 'text', text: 'It failed.', state: 'done' }],
        metadata: { messageId: 'm1', requestId: 'r', status: 'complete', stopReason: 'end_turn' },
      },
      { id: 'm4', role: 'user', parts: [{ type: 'text', text: 'again', state: 'done' }] },
      { id: 'm6', role: 'assistant', parts: [{ type: 'step-start' }], metadata: { messageId: 'm6', requestId: 'r', status: 'cancelled' } },
    ]);
  });
});
