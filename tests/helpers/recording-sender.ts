import type { ServerFrame } from '../../src/models/server-frames';
import { ConnectionGoneError, type FrameSender } from '../../src/utils/websocket';

/**
 * An in-memory FrameSender for unit tests of the handler: it records what would have been
 * posted. Integration tests use the real management client against the local emulator instead.
 */
export class RecordingSender implements FrameSender {
  readonly sent: Array<{ connectionId: string; frame: ServerFrame }> = [];
  readonly gone = new Set<string>();

  send(connectionId: string, frame: ServerFrame): Promise<void> {
    if (this.gone.has(connectionId)) return Promise.reject(new ConnectionGoneError(connectionId));
    this.sent.push({ connectionId, frame });
    return Promise.resolve();
  }


  framesFor(connectionId: string): ServerFrame[] {
    return this.sent.filter((s) => s.connectionId === connectionId).map((s) => s.frame);
  }
}
