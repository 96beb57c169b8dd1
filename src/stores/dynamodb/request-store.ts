import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HeldRequest, RequestStore } from '../request-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';

/** RequestStore on DynamoDB: one item per request a connection holds, in its connection's partition. */
export class DynamoRequestStore implements RequestStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async begin(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey?: string): Promise<boolean> {
    const now = nowSeconds(this.now);
    const begun = await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEYS.request(connectionId, requestId), jobId, streamKey, ttl: now + ttlSeconds },
          // Race: a client resending the same requestId on one connection while the first is
          // live, or resuming onto a connection that holds the id — only one may hold it. An
          // expired leftover that DynamoDB has not deleted yet counts as absent.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
    return begun !== undefined;
  }

  async held(connectionId: string, requestId: string): Promise<HeldRequest | undefined> {
    // Strongly consistent: a record written a moment ago by another invocation must be seen.
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.request(connectionId, requestId), ConsistentRead: true }));
    return Item !== undefined && Number(Item['ttl']) > nowSeconds(this.now) ? this.heldOf(Item) : undefined;
  }

  async heldBy(connectionId: string): Promise<HeldRequest[]> {
    const { pk } = KEYS.connection(connectionId);
    const now = nowSeconds(this.now);
    const held: HeldRequest[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': KEYS.requestPrefix },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (Number(item['ttl']) > now) held.push(this.heldOf(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return held;
  }

  async hold(connectionId: string, requestId: string, jobId: string, ttlSeconds: number, streamKey: string, version: number): Promise<boolean> {
    const now = nowSeconds(this.now);
    const held = await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEYS.request(connectionId, requestId), jobId, streamKey, ver: version, ttl: now + ttlSeconds },
          // Race: a worker removing this record as it follows an older resume; a request of
          // another job that took the id here meanwhile keeps it.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now OR jobId = :job',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': now, ':job': jobId },
        }),
      ),
    );
    return held !== undefined;
  }

  async end(connectionId: string, requestId: string, jobId: string, beforeVersion?: number): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: KEYS.request(connectionId, requestId),
          // Race: a worker ending late (after its lease was taken over) must not delete a newer
          // request that reuses the requestId; nor, following an older resume, a record this
          // connection took again by a newer one.
          ConditionExpression: beforeVersion === undefined ? 'jobId = :job' : 'jobId = :job AND (attribute_not_exists(ver) OR ver < :v)',
          ExpressionAttributeValues: beforeVersion === undefined ? { ':job': jobId } : { ':job': jobId, ':v': beforeVersion },
        }),
      ),
    );
  }

  private heldOf(item: Record<string, unknown>): HeldRequest {
    return {
      requestId: String(item['sk']).slice(KEYS.requestPrefix.length),
      jobId: String(item['jobId']),
      streamKey: typeof item['streamKey'] === 'string' ? item['streamKey'] : undefined,
    };
  }
}
