import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PendingSlot, SlotHolders, SlotTake } from '../counter-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';

/** Optimistic rounds of one write before it gives up (only races between writers repeat one). */
export const WRITE_ROUNDS = 6;

/**
 * The slot sets of CounterStore on DynamoDB: one item per key holding a map `s` of slotId →
 * expiry (epoch seconds), a map `p` of the pending ones (slotId → since, epoch ms) and a version
 * `ver`; see {@link acquireSlot} for how a limit holds under parallel writers.
 */
export class DynamoSlots {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number,
  ) {}

  /**
   * One write while the map has room: `SET s.#id` on condition `size(s) < limit` is atomic, so
   * parallel writers can never together exceed the limit. When the map is full (expired slots
   * count there until pruned), one consistent read tells live from expired slots: at the limit
   * the answer is no; otherwise the item is rewritten without the expired slots, on condition
   * that its version is still the one read, and a writer that lost that race starts over.
   * Pending slots are also marked in a second map `p` (slotId → since, epoch ms); the write
   * returns the item as it left it (no extra read cost), which tells the other pending holders.
   */
  async acquireSlot(key: string, slotId: string, limit: number, expiresAt: number, pendingSince?: number): Promise<SlotTake> {
    if (limit <= 0) return { taken: false, pending: [] };
    const Key = KEYS.slots(key);
    // The item's TTL attribute in whole seconds (DynamoDB's TTL reads epoch seconds).
    const ttl = Math.ceil(expiresAt);
    const mark = pendingSince === undefined ? 'REMOVE #p.#id' : '';
    for (let round = 0; round < WRITE_ROUNDS; round += 1) {
      const added = await unlessConditionFails(
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: `SET #s.#id = :exp, #ttl = :ttl${pendingSince === undefined ? '' : ', #p.#id = :since'} ADD #ver :one ${mark}`.trim(),
            // A set without `p` (made before pending slots) takes the path below, which adds it.
            ConditionExpression: 'attribute_exists(#s) AND attribute_exists(#p) AND size(#s) < :limit',
            ExpressionAttributeNames: { '#s': 's', '#p': 'p', '#id': slotId, '#ttl': 'ttl', '#ver': 'ver' },
            ExpressionAttributeValues: { ':exp': expiresAt, ':ttl': ttl, ':limit': limit, ':one': 1, ...(pendingSince === undefined ? {} : { ':since': pendingSince }) },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      if (added) return { taken: true, pending: pendingOf(added.Attributes, this.now()).filter((p) => p.id !== slotId) };
      const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      const now = nowSeconds(this.now);
      const held = Object.entries((Item?.['s'] ?? {}) as Record<string, number>).filter(([, expiry]) => expiry > now);
      const others = pendingOf(Item, this.now()).filter((p) => p.id !== slotId);
      if (held.length >= limit && !held.some(([id]) => id === slotId)) return { taken: false, pending: others };
      const slots = Object.fromEntries([...held.filter(([id]) => id !== slotId), [slotId, expiresAt]]);
      const marks = Object.fromEntries([...others.map((p) => [p.id, p.since] as const), ...(pendingSince === undefined ? [] : [[slotId, pendingSince] as const])]);
      const version = Number(Item?.['ver'] ?? 0);
      const rewritten = await unlessConditionFails(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...Key, s: slots, p: marks, ver: version + 1, ttl: Math.max(ttl, ...held.map(([, expiry]) => Math.ceil(expiry))) },
            // Race: another writer changed the slots since the read; start over from its state.
            ConditionExpression: Item === undefined ? 'attribute_not_exists(pk)' : '#ver = :ver',
            ...(Item === undefined ? {} : { ExpressionAttributeNames: { '#ver': 'ver' }, ExpressionAttributeValues: { ':ver': version } }),
          }),
        ),
      );
      if (rewritten) return { taken: true, pending: others };
    }
    throw new Error(`slot key ${key}: too many concurrent writers, gave up after ${WRITE_ROUNDS} rounds`);
  }

  async confirmSlot(key: string, slotId: string): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.slots(key),
          UpdateExpression: 'REMOVE #p.#id',
          ConditionExpression: 'attribute_exists(#p)',
          ExpressionAttributeNames: { '#p': 'p', '#id': slotId },
        }),
      ),
    );
  }

  async slotHolders(key: string): Promise<SlotHolders> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.slots(key), ConsistentRead: true }));
    const now = this.now();
    const held = Object.entries((Item?.['s'] ?? {}) as Record<string, number>).filter(([, expiry]) => expiry * 1000 > now).map(([slotId]) => slotId);
    return { held, pending: pendingOf(Item, now) };
  }

  async openSlots(key: string, expiresAt: number): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEYS.slots(key), s: {}, p: {}, ver: 0, ttl: Math.ceil(expiresAt) },
          // Never over a set that holds slots already.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async releaseSlot(key: string, slotId: string): Promise<void> {
    const release = (withMarks: boolean): Promise<Record<string, unknown> | undefined> =>
      unlessConditionFails(
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: KEYS.slots(key),
            UpdateExpression: `REMOVE #s.#id${withMarks ? ', #p.#id' : ''} ADD #ver :one`,
            // Without it, a release after the item expired would create an empty item.
            ConditionExpression: withMarks ? 'attribute_exists(#s) AND attribute_exists(#p)' : 'attribute_exists(#s)',
            ExpressionAttributeNames: { '#s': 's', '#id': slotId, '#ver': 'ver', ...(withMarks ? { '#p': 'p' } : {}) },
            ExpressionAttributeValues: { ':one': 1 },
          }),
        ),
      );
    // A set made before pending slots has no `p` to remove from: the second write is for it alone.
    if ((await release(true)) === undefined) await release(false);
  }
}

/** The live pending holders of a slot item: marked in `p` and still held in `s`. */
function pendingOf(item: Record<string, unknown> | undefined, nowMs: number): PendingSlot[] {
  const held = (item?.['s'] ?? {}) as Record<string, number>;
  const marks = (item?.['p'] ?? {}) as Record<string, number>;
  return Object.entries(marks)
    .filter(([slotId]) => Number(held[slotId] ?? 0) * 1000 > nowMs)
    .map(([id, since]) => ({ id, since: Number(since) }));
}
