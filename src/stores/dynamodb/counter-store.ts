import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CounterStore } from '../counter-store';
import { isConditionFailure, KEYS, nowSeconds } from './table';

/** CounterStore on DynamoDB: one item per counter, updated with conditional atomic ADDs. */
export class DynamoCounterStore implements CounterStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async tryAdd(key: string, amount: number, limit: number, expiresAt: number): Promise<{ ok: boolean; value: number }> {
    const now = nowSeconds(this.now);
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.counter(key),
          UpdateExpression: 'ADD #v :amount SET #ttl = :expires',
          // Race: many instances admitting at once. The check and the add are one atomic
          // update, so the limit holds however many Lambdas run.
          ConditionExpression: '(attribute_not_exists(#v) OR #v <= :max) AND (attribute_not_exists(#ttl) OR #ttl > :now)',
          ExpressionAttributeNames: { '#v': 'v', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':amount': amount, ':max': limit - amount, ':expires': expiresAt, ':now': now },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { ok: true, value: Number(Attributes?.['v'] ?? amount) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // Refused: over the limit, or an expired counter DynamoDB has not deleted yet.
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.counter(key), ConsistentRead: true }));
    const expired = Item !== undefined && Number(Item['ttl']) <= now;
    if (!expired) return { ok: false, value: Number(Item?.['v'] ?? 0) };
    if (amount > limit) return { ok: false, value: 0 };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEYS.counter(key), v: amount, ttl: expiresAt },
          // Race: two instances restarting the same expired counter; one wins, the other retries.
          ConditionExpression: '#ttl <= :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return { ok: true, value: amount };
    } catch (error) {
      if (isConditionFailure(error)) return this.tryAdd(key, amount, limit, expiresAt);
      throw error;
    }
  }

  async release(key: string, amount: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.counter(key),
          UpdateExpression: 'ADD #v :negative',
          ConditionExpression: '#v >= :amount AND #ttl > :now',
          ExpressionAttributeNames: { '#v': 'v', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':negative': -amount, ':amount': amount, ':now': nowSeconds(this.now) },
        }),
      );
    } catch (error) {
      // Already expired or released: nothing to take back.
      if (!isConditionFailure(error)) throw error;
    }
  }
}
