import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord } from '../../models/connection';
import type { ConnectionStore } from '../connection-store';
import { KEYS, nowSeconds } from './table';

/** ConnectionStore on DynamoDB: one item per connection, TTL-cleaned. */
export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(record: ConnectionRecord): Promise<void> {
    // Unconditional: API Gateway never reuses a connection id, and a retried $connect for the
    // same id must simply succeed again.
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...KEYS.connection(record.connectionId), ...record },
      }),
    );
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: KEYS.connection(connectionId), ConsistentRead: true }),
    );
    if (Item === undefined || (Item['ttl'] as number) <= nowSeconds(this.now)) return undefined;
    const { pk: _pk, sk: _sk, ...record } = Item;
    return record as ConnectionRecord;
  }

  async delete(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: KEYS.connection(connectionId) }));
  }
}
