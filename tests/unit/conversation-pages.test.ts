import fc from 'fast-check';
import { pageOf } from '../../client/src/conversation-pages';
import type { MessagesFrame } from '../../client/src/protocol.generated';
import { messageParts } from '../../src/delivery/message-parts';
import type { MessageView, ViewBlock } from '../../src/models/server-frames';

/**
 * The client's joining of a message the gateway sent in parts (`conv/get`), against the server's
 * own splitting (messageParts): whatever the message, joined it is the message again — its text
 * blocks as one text where the split cut them, a large tool input parsed back into its call.
 */
const base = { messageId: 'm1', role: 'assistant' as const, createdAt: '2026-01-01T00:00:00.000Z', requestId: 'r-1', status: 'complete' as const };
const framesOf = (message: MessageView, maxBytes: number): MessagesFrame[] => {
  const frameOf = (content: MessageView['content']): MessagesFrame => ({ type: 'messages', requestId: 'q-1', conversationId: 'c_1', items: [{ ...message, content }], part: 0, parts: 1 });
  const pieces = messageParts(message, maxBytes, frameOf);
  return pieces.map((content, part) => ({ ...frameOf(content), part, parts: pieces.length, ...(part === pieces.length - 1 ? { cursor: '7' } : {}) }));
};
/** Consecutive text blocks as one: what the split may not tell apart. */
const merged = (blocks: ViewBlock[]): ViewBlock[] =>
  blocks.reduce<ViewBlock[]>((out, block) => {
    const last = out[out.length - 1];
    if (block.type === 'text' && last?.type === 'text') out[out.length - 1] = { type: 'text', text: last.text + block.text };
    else out.push(block);
    return out;
  }, []);

describe('pageOf: a message sent in parts, joined', () => {
  it('joins text, a tool input in tool_input pieces and a tool result in pieces back into the message', () => {
    const text = 'word '.repeat(2000);
    const input = { path: 'a.txt', content: 'x"y\n'.repeat(1500) };
    const message: MessageView = {
      ...base,
      content: [
        { type: 'text', text },
        { type: 'tool_use', toolUseId: 't1', name: 'write', input },
        { type: 'tool_use', toolUseId: 't2', name: 'small', input: { a: 1 } },
      ],
    };
    const frames = framesOf(message, 2048);
    expect(frames.length).toBeGreaterThan(5);
    expect(JSON.stringify(frames)).toContain('"tool_input"');
    const page = pageOf(frames, 'q-1');
    expect(page).toEqual({ items: [message], cursor: '7' });

    const results: MessageView = { ...base, role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: 'r'.repeat(9000) }, { type: 'tool_result', toolUseId: 't2', content: 'ok', isError: true }] };
    expect(pageOf(framesOf(results, 2048), 'q-1').items).toEqual([results]);
    // Frames may come in any order; a missing part is a protocol error, not a shorter message.
    expect(pageOf([...frames].reverse(), 'q-1').items).toEqual([message]);
    expect(() => pageOf(frames.slice(1), 'q-1')).toThrow(expect.objectContaining({ code: 'protocol_error' }) as Error);
  });

  it('leaves a page of whole messages as it came (two text blocks stay two)', () => {
    const items: MessageView[] = [
      { ...base, messageId: 'm0', role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { ...base, content: 'plain' },
    ];
    expect(pageOf([{ type: 'messages', requestId: 'q', conversationId: 'c_1', items, running: { requestId: 'r-2' } }], 'q')).toEqual({ items, running: { requestId: 'r-2' } });
  });

  it('holds for any message of text and tool calls, at any frame size', () => {
    const block = fc.oneof(
      fc.record({ type: fc.constant('text' as const), text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 600 }) }),
      fc.record({ type: fc.constant('tool_use' as const), toolUseId: fc.uuid(), name: fc.constantFrom('a', 'b'), input: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 300 })) }),
    );
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 6 }), fc.integer({ min: 700, max: 3000 }), (content, maxBytes) => {
        const message: MessageView = { ...base, content };
        const joined = pageOf(framesOf(message, maxBytes), 'q-1').items[0]!;
        const frames = framesOf(message, maxBytes);
        // Whole in one frame: as it was; in parts: consecutive texts may come joined.
        expect(joined.content).toEqual(frames.length === 1 ? content : merged(content));
      }),
      { numRuns: 150 },
    );
  });
});
