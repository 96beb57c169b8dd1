import { dataUrlBytes, toGatewayRequest, type UiMessage } from '../../client/src/ai-sdk/messages';

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
