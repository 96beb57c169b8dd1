import { requestKey } from '../models/request-key';
import type { RequestStore } from './request-store';
import { TtlMap } from './memory-ttl-map';

interface RequestState {
  cancelled: boolean;
}

/** The in-memory RequestStore: shared by every handler instance of one process. */
export class MemoryRequestStore implements RequestStore {
  private readonly requests: TtlMap<RequestState>;

  constructor(private readonly now: () => number = Date.now) {
    this.requests = new TtlMap(now);
  }

  begin(connectionId: string, requestId: string, ttlSeconds: number): Promise<boolean> {
    const key = requestKey(connectionId, requestId);
    if (this.requests.get(key) !== undefined) return Promise.resolve(false);
    this.requests.set(key, { cancelled: false }, this.now() + ttlSeconds * 1000);
    return Promise.resolve(true);
  }

  requestCancel(connectionId: string, requestId: string): Promise<boolean> {
    const state = this.requests.get(requestKey(connectionId, requestId));
    if (state === undefined) return Promise.resolve(false);
    state.cancelled = true;
    return Promise.resolve(true);
  }

  cancelAll(connectionId: string): Promise<void> {
    for (const key of this.requests.keysWithPrefix(requestKey(connectionId, ''))) {
      const state = this.requests.get(key);
      if (state) state.cancelled = true;
    }
    return Promise.resolve();
  }

  isCancelled(connectionId: string, requestId: string): Promise<boolean> {
    return Promise.resolve(this.requests.get(requestKey(connectionId, requestId))?.cancelled ?? false);
  }

  end(connectionId: string, requestId: string): Promise<void> {
    this.requests.delete(requestKey(connectionId, requestId));
    return Promise.resolve();
  }

  /** Running requests, for tests and leak checks. */
  get size(): number {
    return this.requests.size;
  }
}
