import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Reads the headers of the frames a client sends, as the bytes arrive (the payloads are only
 * skipped), and reports the first frame longer than `maxFrameBytes`. `ws` checks only a whole
 * message's size; API Gateway also refuses a single frame over 32 KB (a message up to 128 KB must
 * come split into frames), closing the connection with 1009.
 */
export class FrameSizeGuard {
  private pending: Buffer = Buffer.alloc(0);
  /** Payload bytes of the current frame still to pass. */
  private skip = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Takes the next bytes; returns the length of a frame over the limit when one begins in them. */
  feed(chunk: Buffer): number | undefined {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    for (;;) {
      if (this.skip > 0) {
        const passed = Math.min(this.skip, data.length);
        this.skip -= passed;
        data = data.subarray(passed);
        if (this.skip > 0) return undefined;
      }
      if (data.length < 2) break;
      const short = data[1]! & 0x7f;
      const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
      const headerBytes = 2 + lengthBytes + ((data[1]! & 0x80) !== 0 ? 4 : 0);
      if (data.length < headerBytes) break;
      const length = lengthBytes === 2 ? data.readUInt16BE(2) : lengthBytes === 8 ? Number(data.readBigUInt64BE(2)) : short;
      if (length > this.maxFrameBytes) return length;
      data = data.subarray(headerBytes);
      this.skip = length;
    }
    this.pending = Buffer.from(data);
    return undefined;
  }
}

/** Connections closed for a frame over the limit: what their socket still parses is not routed. */
export const closedForFrameSize = new WeakSet<WebSocket>();

/**
 * Watches an upgraded connection's incoming frames ahead of `ws` (a listener put first), and
 * closes it with 1009 at the first frame over `maxFrameBytes`, as API Gateway does; the message
 * that frame belongs to is never routed.
 */
export function guardFrameSize(socket: Duplex, ws: WebSocket, maxFrameBytes: number): void {
  const guard = new FrameSizeGuard(maxFrameBytes);
  const onData = (chunk: Buffer): void => {
    const over = guard.feed(chunk);
    if (over === undefined) return;
    socket.off('data', onData);
    closedForFrameSize.add(ws);
    ws.close(1009, `Frame of ${over} bytes is over the ${maxFrameBytes} a frame may be`);
  };
  socket.prependListener('data', onData);
}
