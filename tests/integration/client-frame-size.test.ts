import WebSocket from 'ws';
import { GatewayClient, GatewayError, type Status, type Tool } from '../../client/src/index.js';
import { framePieces, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from '../../client/src/frame-size.js';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { LIMITS } from '../../src/models/limits';
import { startLocal } from '../helpers/local';

/**
 * A frame over the gateway's message limit never leaves the client: sent, it would make the
 * gateway (API Gateway, and the emulator like it) close the whole connection with 1009 — every
 * request on it lost, and the one that caused it failing as a retryable `connection_lost` that
 * fails again each time. Instead that one request fails at once with `payload_too_large` (not
 * retryable), and the connection and every other request go on.
 */
const TIME: Tool = { name: 'get_time', inputSchema: { type: 'object', properties: { zone: { type: 'string', examples: ['UTC'] } }, required: ['zone'] } };
const user = (content: string) => ({ role: 'user' as const, content });

describe('the client’s frame size limit, against the local emulator', () => {
  let local: LocalGateway;
  let client: GatewayClient;
  const statuses: Status[] = [];
  beforeEach(async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '5', MOCK_ANSWER_TOKENS: '30' });
    client = new GatewayClient({ url: local.url, WebSocket });
    statuses.length = 0;
    client.on('status', (status) => void statuses.push(status));
  });
  afterEach(async () => {
    await client.close();
    await local.stop();
  });

  it('is the gateway’s own message and frame limits', () => {
    expect(MAX_MESSAGE_BYTES).toBe(LIMITS.maxMessageBytes);
    expect(MAX_FRAME_BYTES).toBe(LIMITS.maxFrameBytes);
  });

  it('splits a message for a socket that can (ws) into frames of at most 32 KB, never inside a surrogate pair', () => {
    const text = JSON.stringify({ data: `${'€'.repeat(20_000)}${'😀'.repeat(15_000)}${'a'.repeat(7)}` });
    const pieces = framePieces(text);
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) {
      expect(new TextEncoder().encode(piece).length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      expect(piece).toBe(Buffer.from(piece, 'utf8').toString('utf8'));
    }
    expect(framePieces('{"small":1}')).toEqual(['{"small":1}']);
  });

  it('from a WebSocket that cannot split a message (a browser’s), refuses one over 32 KB, saying why and what to do; at 32 KB it is answered', async () => {
    // ws without terminate(): what the client takes for a browser's WebSocket.
    class BrowserLike extends WebSocket {}
    Object.defineProperty(BrowserLike.prototype, 'terminate', { value: undefined });
    const browser = new GatewayClient({ url: local.url, WebSocket: BrowserLike });
    try {
      await browser.connect();
      const frameOf = (content: string) => JSON.stringify({ action: 'llm/chat', requestId: 'b', data: { messages: [user(content)] } });
      const base = new TextEncoder().encode(frameOf('')).length;
      const over = await browser.chat({ messages: [user('a'.repeat(MAX_FRAME_BYTES + 1 - base))] }, { requestId: 'b' }).then(() => undefined, (e: unknown) => e);
      expect(over).toMatchObject({ code: 'payload_too_large', retryable: false, requestId: 'b' });
      expect((over as GatewayError).message).toContain(`over the ${MAX_FRAME_BYTES} bytes one WebSocket message from a browser may be`);
      expect((over as GatewayError).message).toContain('conversationId');
      expect(await browser.chat({ messages: [user('a'.repeat(MAX_FRAME_BYTES - base))] }, { requestId: 'b' })).toMatchObject({ requestId: 'b', stopReason: 'end_turn' });
    } finally {
      await browser.close();
    }
  });

  it('runTools with a 200 KB tool result fails with payload_too_large, not retryable; the connection stays open, a request beside it and the next one stream', async () => {
    const beside = client.stream({ messages: [user('beside the big one')] });
    const big = 'x'.repeat(200 * 1024);
    const error = await client.runTools({ messages: [user('get_time')], tools: [TIME] }, { tools: { get_time: () => big } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'payload_too_large', retryable: false, requestId: expect.any(String) as string });
    expect((error as GatewayError).message).toMatch(new RegExp(`^The request is \\d+ bytes .*over the gateway's limit of ${LIMITS.maxMessageBytes} bytes`));
    expect(Number(/(\d+) bytes/.exec((error as GatewayError).message)?.[1])).toBeGreaterThan(200 * 1024);

    let text = '';
    for await (const delta of beside) text += delta;
    expect(text).toBe(mockAnswerTokens('beside the big one', 30).join(''));
    let after = '';
    for await (const delta of client.stream({ messages: [user('after the big one')] })) after += delta;
    expect(after).toBe(mockAnswerTokens('after the big one', 30).join(''));
    // One connection throughout: it never closed.
    expect(statuses).toEqual(['connecting', 'open']);
  });

  it('counts UTF-8 bytes of the frame as sent: one byte over the limit fails here, exactly at it goes to the gateway and is answered', async () => {
    await client.connect();
    const frameOf = (content: string) => JSON.stringify({ action: 'llm/chat', requestId: 'edge', data: { messages: [user(content)] } });
    const base = new TextEncoder().encode(frameOf('')).length;
    // '€' is 3 bytes in UTF-8 and 1 UTF-16 unit: a count of characters would let this through.
    const euros = '€'.repeat(Math.floor((MAX_MESSAGE_BYTES - base) / 3));
    const fill = (bytes: number) => euros + 'a'.repeat(bytes - base - new TextEncoder().encode(euros).length);
    const over = await client.chat({ messages: [user(fill(MAX_MESSAGE_BYTES + 1))] }, { requestId: 'edge' }).then(() => undefined, (e: unknown) => e);
    expect(over).toMatchObject({ code: 'payload_too_large', requestId: 'edge', message: expect.stringContaining(`is ${MAX_MESSAGE_BYTES + 1} bytes`) as string });
    // At the limit it is sent — in frames of 32 KB, as API Gateway needs — and answered, on the same connection.
    const at = await client.chat({ messages: [user(fill(MAX_MESSAGE_BYTES))] }, { requestId: 'edge' });
    expect(at).toMatchObject({ requestId: 'edge', stopReason: 'end_turn' });
    expect(statuses).toEqual(['connecting', 'open']);
  });
});
