import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord } from '../../models/connection';
import type { ConnectionStore } from '../connection-store';
import { KEYS, nowSeconds, USER_INDEX } from './table';

/** ConnectionStore on DynamoDB: one item per connection, TTL-cleaned, indexed by userId. */
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
        Item: {
          ...KEYS.connection(record.connectionId),
          ...record,
          ...(record.userId !== undefined ? { gsi1pk: KEYS.user(record.userId) } : {}),
        },
      }),
    );
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: KEYS.connection(connectionId), ConsistentRead: true }),
    );
    if (Item === undefined || (Item['ttl'] as number) <= nowSeconds(this.now)) return undefined;
    const { pk: _pk, sk: _sk, gsi1pk: _gsi, ...record } = Item;
    return record as ConnectionRecord;
  }

  async countForUser(userId: string): Promise<number> {
    // The byUser index projects `ttl`, so expired connections DynamoDB has not deleted yet are
    // filtered out. An index is eventually consistent: a burst of simultaneous connects can
    // briefly exceed a cap by the few that are not indexed yet.
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: USER_INDEX,
          KeyConditionExpression: 'gsi1pk = :user',
          FilterExpression: '#ttl > :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':user': KEYS.user(userId), ':now': nowSeconds(this.now) },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async delete(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: KEYS.connection(connectionId) }));
  }
}
