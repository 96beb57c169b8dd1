import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Claim, RequestStore } from '../request-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';

/** RequestStore on DynamoDB: one item per live request, in its connection's partition. */
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
          Item: { ...KEYS.request(connectionId, requestId), jobId, streamKey, state: 'queued', leaseUntil: 0, cancelled: false, ttl: now + ttlSeconds },
          // Race: a client resending the same requestId on one connection while the first is
          // live — only one may run. An expired leftover that DynamoDB has not deleted yet
          // counts as absent.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
    return begun !== undefined;
  }

  async claim(connectionId: string, requestId: string, jobId: string, leaseUntilMs: number): Promise<Claim> {
    const Key = KEYS.request(connectionId, requestId);
    const claimed = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET #state = :running, leaseUntil = :lease',
          // Race: SQS delivers at least once, so two workers may hold the same job at once;
          // only the one that moves it out of `queued` streams the answer.
          ConditionExpression: 'jobId = :job AND #state = :queued AND #ttl > :now',
          ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':running': 'running', ':queued': 'queued', ':lease': leaseUntilMs, ':job': jobId, ':now': nowSeconds(this.now) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (claimed) return { outcome: 'claimed', cancelled: claimed.Attributes?.['cancelled'] === true };
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    const live = Item !== undefined && Item['jobId'] === jobId && (Item['ttl'] as number) > nowSeconds(this.now);
    const lease = Number(Item?.['leaseUntil'] ?? 0);
    if (!live || Item['state'] !== 'running' || lease > this.now()) return { outcome: 'duplicate' };
    const takenOver = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET leaseUntil = :lease',
          // Race: two redeliveries finding the same expired lease — one takes the record over.
          ConditionExpression: 'jobId = :job AND leaseUntil = :old',
          ExpressionAttributeValues: { ':lease': leaseUntilMs, ':job': jobId, ':old': lease },
        }),
      ),
    );
    return takenOver ? { outcome: 'interrupted' } : { outcome: 'duplicate' };
  }

  async requestCancel(connectionId: string, requestId: string): Promise<{ readonly streamKey: string | undefined } | undefined> {
    const flagged = await this.flag(connectionId, requestId);
    if (flagged === undefined) return undefined;
    return { streamKey: typeof flagged['streamKey'] === 'string' ? flagged['streamKey'] : undefined };
  }

  async cancelAll(connectionId: string): Promise<void> {
    const { pk } = KEYS.connection(connectionId);
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': KEYS.requestPrefix },
          ProjectionExpression: 'sk',
          ExclusiveStartKey: startKey,
        }),
      );
      const ids = (page.Items ?? []).map((item) => String(item['sk']).slice(KEYS.requestPrefix.length));
      await Promise.all(ids.map((requestId) => this.flag(connectionId, requestId)));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async isCancelled(connectionId: string, requestId: string): Promise<boolean> {
    const item = await this.liveItem(connectionId, requestId);
    return item?.['cancelled'] === true;
  }

  async isLive(connectionId: string, requestId: string): Promise<boolean> {
    return (await this.liveItem(connectionId, requestId)) !== undefined;
  }

  private async liveItem(connectionId: string, requestId: string): Promise<Record<string, unknown> | undefined> {
    // Strongly consistent: a cancel written a moment ago by another invocation must be seen.
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: KEYS.request(connectionId, requestId),
        ConsistentRead: true,
        ProjectionExpression: 'cancelled, #ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
      }),
    );
    return Item !== undefined && (Item['ttl'] as number) > nowSeconds(this.now) ? Item : undefined;
  }

  async end(connectionId: string, requestId: string, jobId: string): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: KEYS.request(connectionId, requestId),
          // Race: a worker ending late (after its lease was taken over) must not delete a newer
          // request that reuses the requestId.
          ConditionExpression: 'jobId = :job',
          ExpressionAttributeValues: { ':job': jobId },
        }),
      ),
    );
  }

  /** Sets the cancel flag of a live request; its attributes, or undefined when there is none. */
  private async flag(connectionId: string, requestId: string): Promise<Record<string, unknown> | undefined> {
    const flagged = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.request(connectionId, requestId),
          UpdateExpression: 'SET cancelled = :yes',
          // Race: the generation may end (and delete its item) while the cancel is in flight;
          // without this condition the update would create a phantom, never-running request.
          ConditionExpression: 'attribute_exists(pk) AND #ttl > :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':yes': true, ':now': nowSeconds(this.now) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return flagged === undefined ? undefined : (flagged.Attributes ?? {});
  }
}
