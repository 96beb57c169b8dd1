import { GatewayError } from './errors.js';

/**
 * The most one frame to the gateway may be, in UTF-8 bytes of its JSON: API Gateway's message
 * limit (128 KB; the server's LIMITS.maxMessageBytes, which the emulator enforces the same way).
 * A larger one is not refused on its own: the gateway closes the whole connection (1009), which
 * would end every request on it — so the client never sends one.
 */
export const MAX_FRAME_BYTES = 128 * 1024;

const encoder = new TextEncoder();

/**
 * `frame` as the text to send; throws GatewayError `payload_too_large` (not retryable: the same
 * frame is as large next time) when it is over the limit, saying its size and what to do.
 */
export function frameText(frame: unknown): string {
  const text = JSON.stringify(frame);
  // A UTF-16 unit is at most 3 UTF-8 bytes: most frames fit without being encoded to count.
  if (text.length * 3 <= MAX_FRAME_BYTES) return text;
  const bytes = encoder.encode(text).length;
  if (bytes > MAX_FRAME_BYTES) {
    throw new GatewayError(
      'payload_too_large',
      `The request is ${bytes} bytes as sent (JSON, UTF-8), over the gateway's limit of ${MAX_FRAME_BYTES} bytes per message; it was not sent. Send less in one request: shorten or leave out earlier turns or large tool results, and upload files (client.upload) instead of putting them inline.`,
    );
  }
  return text;
}
