import { requestKey } from '../models/request-key';
import type { Claim, RequestStore } from './request-store';
import { TtlMap } from './memory-ttl-map';

interface RequestState {
  readonly jobId: string;
  readonly streamKey: string | undefined;
  state: 'queued' | 'running';
  leaseUntilMs: number;
  cancelled: boolean;
}

/** The in-memory RequestStore: shared by every handler instance of one process. */
export class MemoryRequestStore implements RequestStore {
  private readonly requests: TtlMap<RequestState>;

  constructor(private readonly now: () => number = Date.now) {
    this.requests = new TtlMap(now);
  }

  begin(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey?: string): Promise<boolean> {
    const key = requestKey(connectionId, requestId);
    if (this.requests.get(key) !== undefined) return Promise.resolve(false);
    this.requests.set(key, { jobId, streamKey, state: 'queued', leaseUntilMs: 0, cancelled: false }, this.now() + ttlSeconds * 1000);
    return Promise.resolve(true);
  }

  claim(connectionId: string, requestId: string, jobId: string, leaseUntilMs: number): Promise<Claim> {
    const record = this.requests.get(requestKey(connectionId, requestId));
    if (record?.jobId !== jobId) return Promise.resolve({ outcome: 'duplicate' });
    if (record.state === 'queued') {
      record.state = 'running';
      record.leaseUntilMs = leaseUntilMs;
      return Promise.resolve({ outcome: 'claimed', cancelled: record.cancelled });
    }
    if (record.leaseUntilMs > this.now()) return Promise.resolve({ outcome: 'duplicate' });
    record.leaseUntilMs = leaseUntilMs;
    return Promise.resolve({ outcome: 'interrupted' });
  }

  requestCancel(connectionId: string, requestId: string): Promise<{ readonly streamKey: string | undefined } | undefined> {
    const state = this.requests.get(requestKey(connectionId, requestId));
    if (state === undefined) return Promise.resolve(undefined);
    state.cancelled = true;
    return Promise.resolve({ streamKey: state.streamKey });
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

  isLive(connectionId: string, requestId: string): Promise<boolean> {
    return Promise.resolve(this.requests.get(requestKey(connectionId, requestId)) !== undefined);
  }

  end(connectionId: string, requestId: string, jobId: string): Promise<void> {
    const key = requestKey(connectionId, requestId);
    if (this.requests.get(key)?.jobId === jobId) this.requests.delete(key);
    return Promise.resolve();
  }

  /** Live requests, for tests and leak checks. */
  get size(): number {
    return this.requests.values().length;
  }
}
