import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServerFrame } from '../../models/server-frames';
import type { StreamMeta, StreamStore } from '../stream-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';

/**
 * StreamStore on DynamoDB: one meta item per stream and one item per logged frame, in the
 * stream's partition, so a replay is one Query. Frames are stored as JSON text.
 */
export class DynamoStreamStore implements StreamStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async open(key: string, meta: Pick<StreamMeta, 'requestId' | 'jobId' | 'userId' | 'mode' | 'target'>, ttlSeconds: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...KEYS.stream(key), ...meta, targets: [meta.target], version: 0, fromSeq: 0, cancelled: false, ttl: nowSeconds(this.now) + ttlSeconds },
      }),
    );
  }

  async get(key: string): Promise<StreamMeta | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.stream(key), ConsistentRead: true }));
    return Item !== undefined && Number(Item['ttl']) > nowSeconds(this.now) ? this.metaOf(Item) : undefined;
  }

  async retarget(key: string, connectionId: string, fromSeq: number): ReturnType<StreamStore['retarget']> {
    const moved = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.stream(key),
          UpdateExpression: 'SET #target = :c, fromSeq = :from, targets = list_append(targets, :cs) ADD version :one',
          // Race: the worker ending the stream at the same moment; an ended stream is replayed instead.
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(terminal) AND #ttl > :now',
          ExpressionAttributeNames: { '#target': 'target', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':c': connectionId, ':from': fromSeq, ':cs': [connectionId], ':one': 1, ':now': nowSeconds(this.now) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (moved) return { outcome: 'moved', meta: this.metaOf(moved.Attributes ?? {}) };
    const meta = await this.get(key);
    return meta?.terminal !== undefined ? { outcome: 'ended', meta } : { outcome: 'unknown' };
  }

  async append(key: string, index: number, frame: ServerFrame, ttlSeconds: number): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...KEYS.streamLog(key, index), frame: JSON.stringify(frame), ttl: nowSeconds(this.now) + ttlSeconds } }),
    );
  }

  async replay(key: string, from: number): Promise<ServerFrame[]> {
    const frames: ServerFrame[] = [];
    const now = nowSeconds(this.now);
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': KEYS.stream(key).pk, ':from': KEYS.streamLog(key, from).sk, ':to': KEYS.streamLog(key, 999_999_999).sk },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (Number(item['ttl']) > now) frames.push(JSON.parse(String(item['frame'])) as ServerFrame);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return frames;
  }

  async end(key: string, terminal: ServerFrame, version: number, retentionSeconds: number): Promise<boolean> {
    const ended = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.stream(key),
          UpdateExpression: 'SET terminal = :t, #ttl = :expires',
          // Race: a resume since `version` moved the stream; the worker must deliver there first.
          ConditionExpression: 'version = :v',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':t': JSON.stringify(terminal), ':v': version, ':expires': nowSeconds(this.now) + retentionSeconds },
        }),
      ),
    );
    return ended !== undefined || (await this.get(key)) === undefined;
  }

  async cancel(key: string): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.stream(key),
          UpdateExpression: 'SET cancelled = :yes',
          // No phantom item for a stream that is gone, and no cancel of one that has ended.
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(terminal)',
          ExpressionAttributeValues: { ':yes': true },
        }),
      ),
    );
  }

  private metaOf(item: Record<string, unknown>): StreamMeta {
    return {
      requestId: String(item['requestId']),
      jobId: String(item['jobId']),
      userId: typeof item['userId'] === 'string' ? item['userId'] : undefined,
      mode: item['mode'] === 'chat' ? 'chat' : 'stream',
      target: String(item['target']),
      targets: Array.isArray(item['targets']) ? item['targets'].map(String) : [],
      version: Number(item['version'] ?? 0),
      fromSeq: Number(item['fromSeq'] ?? 0),
      cancelled: item['cancelled'] === true,
      terminal: typeof item['terminal'] === 'string' ? (JSON.parse(item['terminal']) as ServerFrame) : undefined,
    };
  }
}
