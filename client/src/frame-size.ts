import { GatewayError } from './errors.js';

/**
 * The most one message to the gateway may be, in UTF-8 bytes of its JSON: API Gateway's message
 * limit (128 KB; the server's LIMITS.maxMessageBytes, which the emulator enforces the same way).
 */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * The most one WebSocket frame to API Gateway may be (32 KB): a longer message must come in
 * several frames, or API Gateway closes the connection (1009) — every request on it lost. The
 * `ws` package can send a message in frames; a browser's WebSocket cannot (Chromium sends a
 * 100 KB message as one 100 KB frame, measured), so from a browser a message may be 32 KB.
 */
export const MAX_FRAME_BYTES = 32 * 1024;

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`, counted only when it may pass `limit`. */
function bytesOver(text: string, limit: number): number | undefined {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most frames fit without being encoded to count.
  if (text.length * 3 <= limit) return undefined;
  const bytes = encoder.encode(text).length;
  return bytes > limit ? bytes : undefined;
}

/**
 * `frame` as the text to send; throws GatewayError `payload_too_large` (not retryable: the same
 * frame is as large next time) when it is over `limit` — the message limit, or where the socket
 * cannot split a message into frames, the frame limit — saying its size and what to do.
 */
export function frameText(frame: unknown, limit = MAX_MESSAGE_BYTES): string {
  const text = JSON.stringify(frame);
  const bytes = bytesOver(text, limit);
  if (bytes === undefined) return text;
  if (limit < MAX_MESSAGE_BYTES) {
    throw new GatewayError(
      'payload_too_large',
      `The request is ${bytes} bytes as sent (JSON, UTF-8), over the ${limit} bytes one WebSocket message from a browser may be: API Gateway takes a longer message only split into frames of ${MAX_FRAME_BYTES} bytes, which a browser's WebSocket cannot send, and would close the connection; it was not sent. Keep the conversation on the gateway (conversationId: each request then carries only its new message), upload long text as a document (client.upload), or send from Node with the ws package (up to ${MAX_MESSAGE_BYTES} bytes).`,
    );
  }
  throw new GatewayError(
    'payload_too_large',
    `The request is ${bytes} bytes as sent (JSON, UTF-8), over the gateway's limit of ${limit} bytes per message; it was not sent. Send less in one request: shorten or leave out earlier turns or large tool results, and upload files (client.upload) instead of putting them inline.`,
  );
}

/**
 * A message's text in pieces of at most MAX_FRAME_BYTES of UTF-8 each, never splitting a
 * surrogate pair (each piece is encoded on its own): the frames a socket that can split a
 * message sends it in.
 */
export function framePieces(text: string): string[] {
  if (bytesOver(text, MAX_FRAME_BYTES) === undefined) return [text];
  const pieces: string[] = [];
  // 10,000 UTF-16 units are at most 30,000 UTF-8 bytes.
  const step = 10_000;
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + step);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push(text.slice(at, end));
    at = end;
  }
  return pieces;
}
