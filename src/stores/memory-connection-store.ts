import type { ConnectionRecord } from '../models/connection';
import type { ConnectionStore } from './connection-store';
import { TtlMap } from './memory-ttl-map';

/** The in-memory ConnectionStore used by `npm run local` and the tests. */
export class MemoryConnectionStore implements ConnectionStore {
  private readonly records: TtlMap<ConnectionRecord>;

  constructor(now: () => number = Date.now) {
    this.records = new TtlMap(now);
  }

  put(record: ConnectionRecord): Promise<void> {
    this.records.set(record.connectionId, record, record.ttl * 1000);
    return Promise.resolve();
  }

  get(connectionId: string): Promise<ConnectionRecord | undefined> {
    return Promise.resolve(this.records.get(connectionId));
  }

  delete(connectionId: string): Promise<void> {
    this.records.delete(connectionId);
    return Promise.resolve();
  }
}
