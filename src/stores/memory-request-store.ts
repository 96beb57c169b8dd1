import { requestKey } from '../models/request-key';
import type { HeldRequest, RequestStore } from './request-store';
import { TtlMap } from './memory-ttl-map';

/** The in-memory RequestStore: shared by every handler instance of one process. */
export class MemoryRequestStore implements RequestStore {
  private readonly requests: TtlMap<HeldRequest>;

  constructor(private readonly now: () => number = Date.now) {
    this.requests = new TtlMap(now);
  }

  begin(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey?: string): Promise<boolean> {
    const key = requestKey(connectionId, requestId);
    if (this.requests.get(key) !== undefined) return Promise.resolve(false);
    this.requests.set(key, { requestId, jobId, streamKey }, this.now() + ttlSeconds * 1000);
    return Promise.resolve(true);
  }

  held(connectionId: string, requestId: string): Promise<HeldRequest | undefined> {
    return Promise.resolve(this.requests.get(requestKey(connectionId, requestId)));
  }

  heldBy(connectionId: string): Promise<HeldRequest[]> {
    const held = this.requests.keysWithPrefix(requestKey(connectionId, '')).map((key) => this.requests.get(key));
    return Promise.resolve(held.filter((record): record is HeldRequest => record !== undefined));
  }

  end(connectionId: string, requestId: string, jobId: string): Promise<void> {
    const key = requestKey(connectionId, requestId);
    if (this.requests.get(key)?.jobId === jobId) this.requests.delete(key);
    return Promise.resolve();
  }

  /** Live records, for tests and leak checks. */
  get size(): number {
    return this.requests.values().length;
  }
}
