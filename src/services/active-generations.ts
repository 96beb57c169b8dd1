import { requestKey } from '../models/request-key';

/**
 * The generations running in this process, so a cancel or a $disconnect handled here stops
 * them at once. Generations in other Lambda instances are reached through the stream's cancel
 * flag instead; this registry only makes the local case immediate.
 */
export class ActiveGenerations {
  private readonly running = new Map<string, AbortController>();

  register(connectionId: string, requestId: string, controller: AbortController): void {
    this.running.set(requestKey(connectionId, requestId), controller);
  }

  unregister(connectionId: string, requestId: string): void {
    this.running.delete(requestKey(connectionId, requestId));
  }

  abort(connectionId: string, requestId: string, reason: unknown): boolean {
    const controller = this.running.get(requestKey(connectionId, requestId));
    controller?.abort(reason);
    return controller !== undefined;
  }
}
