import { requestKey } from '../models/request-key';
import type { HeldRequest, RequestStore } from './request-store';
import { TtlMap } from './memory-ttl-map';

/** The in-memory RequestStore: shared by every handler instance of one process. */
export class MemoryRequestStore implements RequestStore {
  private readonly requests: TtlMap<HeldRequest>;
  /** The stream version a record was taken at by `hold` (0 when begun). */
  private readonly versions = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {
    this.requests = new TtlMap(now);
  }

  begin(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey?: string): Promise<boolean> {
    const key = requestKey(connectionId, requestId);
    if (this.requests.get(key) !== undefined) return Promise.resolve(false);
    this.requests.set(key, { requestId, jobId, streamKey }, this.now() + ttlSeconds * 1000);
    this.versions.delete(key);
    return Promise.resolve(true);
  }

  held(connectionId: string, requestId: string): Promise<HeldRequest | undefined> {
    return Promise.resolve(this.requests.get(requestKey(connectionId, requestId)));
  }

  heldBy(connectionId: string): Promise<HeldRequest[]> {
    const held = this.requests.keysWithPrefix(requestKey(connectionId, '')).map((key) => this.requests.get(key));
    return Promise.resolve(held.filter((record): record is HeldRequest => record !== undefined));
  }

  hold(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey: string, version: number): Promise<boolean> {
    const key = requestKey(connectionId, requestId);
    const record = this.requests.get(key);
    if (record !== undefined && record.jobId !== jobId) return Promise.resolve(false);
    this.requests.set(key, { requestId, jobId, streamKey }, this.now() + ttlSeconds * 1000);
    this.versions.set(key, version);
    return Promise.resolve(true);
  }

  end(connectionId: string, requestId: string, jobId: string, beforeVersion?: number): Promise<void> {
    const key = requestKey(connectionId, requestId);
    const takenAt = this.versions.get(key) ?? 0;
    if (this.requests.get(key)?.jobId === jobId && (beforeVersion === undefined || takenAt < beforeVersion)) {
      this.requests.delete(key);
      this.versions.delete(key);
    }
    return Promise.resolve();
  }

  /** Live records, for tests and leak checks. */
  get size(): number {
    return this.requests.values().length;
  }
}
