import type { ConnectionRecord } from '../../src/models/connection';
import type { Claim } from '../../src/stores/stream-store';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import { MemoryStreamStore } from '../../src/stores/memory-stream-store';

/** The in-memory connection store, with writes a test can make fail as an unreachable DynamoDB would. */
export class FaultyConnectionStore extends MemoryConnectionStore {
  failPuts = false;
  failDeletes = false;

  override put(record: ConnectionRecord): Promise<void> {
    return this.failPuts ? Promise.reject(new Error('store down')) : super.put(record);
  }

  override delete(connectionId: string): Promise<void> {
    return this.failDeletes ? Promise.reject(new Error('store down')) : super.delete(connectionId);
  }
}

/** The in-memory stream store, with claims a test can make fail. */
export class FaultyStreamStore extends MemoryStreamStore {
  failClaims = false;

  override claim(key: string, jobId: string, leaseUntilMs: number): Promise<Claim> {
    return this.failClaims ? Promise.reject(new Error('DynamoDB unreachable')) : super.claim(key, jobId, leaseUntilMs);
  }
}
