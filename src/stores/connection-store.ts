import type { ConnectionRecord } from '../models/connection';

/**
 * Where connections live: DynamoDB in AWS, memory locally. Implementations must treat a
 * record whose `ttl` has passed as absent, because DynamoDB deletes expired items late.
 */
export interface ConnectionStore {
  put(record: ConnectionRecord): Promise<void>;
  get(connectionId: string): Promise<ConnectionRecord | undefined>;
  delete(connectionId: string): Promise<void>;
}
