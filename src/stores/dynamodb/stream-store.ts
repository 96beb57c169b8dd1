import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServerFrame } from '../../models/server-frames';
import type { Claim, LoggedFrame, StreamMeta, StreamStore } from '../stream-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';

/**
 * The frames of one log item: a checkpoint's `frames` (deflated JSON of [index, frame] pairs), or
 * the one `frame` of an item written before checkpoints (a worker of the previous version, mid-deploy).
 */
function framesOf(item: Record<string, unknown>): Array<[number, ServerFrame]> {
  if (item['frames'] instanceof Uint8Array) return JSON.parse(inflateRawSync(item['frames']).toString('utf8')) as Array<[number, ServerFrame]>;
  const index = Number(String(item['sk']).slice('LOG#'.length));
  return typeof item['frame'] === 'string' ? [[index, JSON.parse(item['frame']) as ServerFrame]] : [];
}

/**
 * The most frame JSON one log item holds before deflating (deflate never grows data by more than
 * a fraction of a percent): well inside DynamoDB's 400 KB item, and any one frame (≤ 128 KB) fits.
 */
const MAX_LOG_ITEM_BYTES = 300 * 1024;

/** A checkpoint's frames in groups of at most MAX_LOG_ITEM_BYTES of JSON, in order. */
function checkpointItems(frames: readonly LoggedFrame[]): LoggedFrame[][] {
  const groups: LoggedFrame[][] = [];
  let bytes = Infinity;
  for (const logged of frames) {
    const size = Buffer.byteLength(JSON.stringify(logged.frame)) + 16;
    if (bytes + size > MAX_LOG_ITEM_BYTES) {
      groups.push([]);
      bytes = 0;
    }
    groups[groups.length - 1]!.push(logged);
    bytes += size;
  }
  return groups;
}

/**
 * StreamStore on DynamoDB: one meta item per stream and one item per checkpoint of the log, in
 * the stream's partition, so a replay is one Query. Frames are stored as JSON text.
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
        Item: { ...KEYS.stream(key), ...meta, targets: [meta.target], version: 0, fromSeq: 0, cancelled: false, state: 'queued', leaseUntil: 0, ttl: nowSeconds(this.now) + ttlSeconds },
      }),
    );
  }

  async get(key: string, { consistent }: { readonly consistent: boolean } = { consistent: true }): Promise<StreamMeta | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.stream(key), ConsistentRead: consistent }));
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

  async append(key: string, frames: readonly LoggedFrame[], ttlSeconds: number): Promise<void> {
    // One item per checkpoint, under its first frame's index, compressed: DynamoDB bills a write
    // per KB, and a few seconds of an answer's frames (text, JSON) deflate to about a third. A
    // checkpoint that grew large (failed writes leave their frames for the next one) is written
    // as several items, each within DynamoDB's 400 KB whatever the frames hold.
    const ttl = nowSeconds(this.now) + ttlSeconds;
    await Promise.all(
      checkpointItems(frames).map((group) => {
        const logged = deflateRawSync(JSON.stringify(group.map(({ index, frame }) => [index, frame])));
        return this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...KEYS.streamLog(key, group[0]!.index), frames: logged, ttl } }));
      }),
    );
  }

  async replay(key: string, from: number): Promise<ServerFrame[]> {
    const frames: Array<[number, ServerFrame]> = [];
    const now = nowSeconds(this.now);
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          // From the log's start: a checkpoint that begins before `from` may hold frames after it.
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': KEYS.stream(key).pk, ':from': KEYS.streamLog(key, 0).sk, ':to': KEYS.streamLog(key, 999_999_999).sk },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (Number(item['ttl']) > now) frames.push(...framesOf(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // By index, once each: a checkpoint rewritten after a partly failed write may hold a frame twice.
    const byIndex = new Map(frames.filter(([index]) => index >= from));
    return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, frame]) => frame);
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

  async claim(key: string, jobId: string, leaseUntilMs: number): Promise<Claim> {
    const Key = KEYS.stream(key);
    const claimed = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET #state = :running, leaseUntil = :lease',
          // Race: SQS delivers at least once, so two workers may hold the same job at once;
          // only the one that moves it out of `queued` streams the answer.
          ConditionExpression: 'jobId = :job AND #state = :queued AND #ttl > :now AND attribute_not_exists(terminal)',
          ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':running': 'running', ':queued': 'queued', ':lease': leaseUntilMs, ':job': jobId, ':now': nowSeconds(this.now) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (claimed) return { outcome: 'claimed', meta: this.metaOf(claimed.Attributes ?? {}) };
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    const live = Item !== undefined && Item['jobId'] === jobId && Number(Item['ttl']) > nowSeconds(this.now) && Item['terminal'] === undefined;
    const lease = Number(Item?.['leaseUntil'] ?? 0);
    if (!live || Item['state'] !== 'running' || lease > this.now()) return { outcome: 'duplicate' };
    const takenOver = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET leaseUntil = :lease',
          // Race: two redeliveries finding the same expired lease — one takes the stream over.
          ConditionExpression: 'jobId = :job AND leaseUntil = :old AND attribute_not_exists(terminal)',
          ExpressionAttributeValues: { ':lease': leaseUntilMs, ':job': jobId, ':old': lease },
        }),
      ),
    );
    return takenOver ? { outcome: 'interrupted' } : { outcome: 'duplicate' };
  }

  async cancel(key: string, connectionId?: string): Promise<StreamMeta | undefined> {
    const cancelled = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.stream(key),
          UpdateExpression: 'SET cancelled = :yes',
          // No phantom item for a stream that is gone, no cancel of one that has ended, and, for a
          // connection's cancel, none of a request resumed on another connection since.
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(terminal)${connectionId === undefined ? '' : ' AND #target = :c'}`,
          ...(connectionId === undefined
            ? { ExpressionAttributeValues: { ':yes': true } }
            : { ExpressionAttributeNames: { '#target': 'target' }, ExpressionAttributeValues: { ':yes': true, ':c': connectionId } }),
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return cancelled?.Attributes === undefined ? undefined : this.metaOf(cancelled.Attributes);
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
