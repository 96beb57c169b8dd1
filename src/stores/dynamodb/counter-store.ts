import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CounterStore, FieldAdd } from '../counter-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';

/** The first field, in order, that the adds would take past its limit on this item. */
function refusalOf(item: Record<string, unknown> | undefined, adds: readonly FieldAdd[]): string | undefined {
  return adds.find(({ field, amount, limit }) => Number(item?.[field] ?? 0) + amount > limit)?.field;
}

/** Optimistic rounds of one slot acquisition before it gives up (only expired-slot pruning races). */
const SLOT_ROUNDS = 6;

/**
 * CounterStore on DynamoDB. A counter is one item updated with conditional atomic ADDs. The
 * slots of a key are one item holding a map `s` of slotId → expiry (epoch seconds) and a
 * version `ver`; see {@link acquireSlot} for how the limit holds under parallel writers.
 */
export class DynamoCounterStore implements CounterStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async tryAdd(key: string, amount: number, limit: number, expiresAt: number): Promise<{ ok: boolean; value: number }> {
    // Never fits, not even on a counter that does not exist yet (the condition below would let
    // the item-creating update through whatever its size).
    if (amount > limit) return { ok: false, value: 0 };
    const now = nowSeconds(this.now);
    const added = await unlessConditionFails(
      this.db.send(
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
      ),
    );
    if (added) return { ok: true, value: Number(added.Attributes?.['v'] ?? amount) };
    // Refused: over the limit, or an expired counter DynamoDB has not deleted yet.
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.counter(key), ConsistentRead: true }));
    const expired = Item !== undefined && Number(Item['ttl']) <= now;
    if (!expired) return { ok: false, value: Number(Item?.['v'] ?? 0) };
    const restarted = await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEYS.counter(key), v: amount, ttl: expiresAt },
          // Race: two instances restarting the same expired counter; one wins, the other retries.
          ConditionExpression: '#ttl <= :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
    return restarted ? { ok: true, value: amount } : this.tryAdd(key, amount, limit, expiresAt);
  }

  /**
   * One conditional update adds to every field, each checked against its limit, so the limits
   * hold together however many instances race. Refused, a consistent read tells which field it
   * was — or that the counter had expired (restarted with these amounts, as in `tryAdd`).
   */
  async tryAddEach(key: string, adds: readonly FieldAdd[], expiresAt: number, round = 0): ReturnType<CounterStore['tryAddEach']> {
    if (adds.length === 0) return { ok: true };
    const now = nowSeconds(this.now);
    // An amount above its limit never fits — and the write below would let it through on a
    // counter that does not exist yet — so only a read tells which field refuses first.
    if (adds.some(({ amount, limit }) => amount > limit)) return { ok: false, refused: await this.firstRefusal(key, adds, now) };
    const names: Record<string, string> = { '#ttl': 'ttl' };
    const values: Record<string, number> = { ':expires': expiresAt, ':now': now };
    adds.forEach(({ field, amount, limit }, i) => {
      names[`#f${i}`] = field;
      values[`:a${i}`] = amount;
      values[`:m${i}`] = limit - amount;
    });
    const added = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.counter(key),
          UpdateExpression: `ADD ${adds.map((_, i) => `#f${i} :a${i}`).join(', ')} SET #ttl = :expires`,
          ConditionExpression: `${adds.map((_, i) => `(attribute_not_exists(#f${i}) OR #f${i} <= :m${i})`).join(' AND ')} AND (attribute_not_exists(#ttl) OR #ttl > :now)`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
    if (added) return { ok: true };
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.counter(key), ConsistentRead: true }));
    if (Item !== undefined && Number(Item['ttl']) <= now) {
      const restarted = await unlessConditionFails(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...KEYS.counter(key), ...Object.fromEntries(adds.map(({ field, amount }) => [field, amount])), ttl: expiresAt },
            // Race: two instances restarting the same expired counter; one wins, the other retries.
            ConditionExpression: '#ttl <= :now',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':now': now },
          }),
        ),
      );
      if (restarted) return { ok: true };
    } else {
      const refused = refusalOf(Item, adds);
      if (refused !== undefined) return { ok: false, refused };
    }
    // The counter changed between the write and the read: try again, a few times.
    if (round >= SLOT_ROUNDS) throw new Error(`counter ${key}: too many concurrent writers, gave up after ${SLOT_ROUNDS} rounds`);
    return this.tryAddEach(key, adds, expiresAt, round + 1);
  }

  private async firstRefusal(key: string, adds: readonly FieldAdd[], now: number): Promise<string> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.counter(key), ConsistentRead: true }));
    const live = Item !== undefined && Number(Item['ttl']) > now ? Item : undefined;
    return refusalOf(live, adds) ?? adds[0]?.field ?? '';
  }

  async release(key: string, amount: number, field = 'v'): Promise<void> {
    // A failed condition: already expired or released, nothing to take back.
    await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.counter(key),
          UpdateExpression: 'ADD #v :negative',
          ConditionExpression: '#v >= :amount AND #ttl > :now',
          ExpressionAttributeNames: { '#v': field, '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':negative': -amount, ':amount': amount, ':now': nowSeconds(this.now) },
        }),
      ),
    );
  }

  /**
   * One write while the map has room: `SET s.#id` on condition `size(s) < limit` is atomic, so
   * parallel writers can never together exceed the limit. When the map is full (expired slots
   * count there until pruned), one consistent read tells live from expired slots: at the limit
   * the answer is no; otherwise the item is rewritten without the expired slots, on condition
   * that its version is still the one read, and a writer that lost that race starts over.
   */
  async acquireSlot(key: string, slotId: string, limit: number, expiresAt: number): Promise<boolean> {
    if (limit <= 0) return false;
    const Key = KEYS.slots(key);
    for (let round = 0; round < SLOT_ROUNDS; round += 1) {
      const added = await unlessConditionFails(
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: 'SET #s.#id = :exp, #ttl = :exp ADD #ver :one',
            ConditionExpression: 'attribute_exists(#s) AND size(#s) < :limit',
            ExpressionAttributeNames: { '#s': 's', '#id': slotId, '#ttl': 'ttl', '#ver': 'ver' },
            ExpressionAttributeValues: { ':exp': expiresAt, ':limit': limit, ':one': 1 },
          }),
        ),
      );
      if (added) return true;
      const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      const now = nowSeconds(this.now);
      const held = Object.entries((Item?.['s'] ?? {}) as Record<string, number>).filter(([, expiry]) => expiry > now);
      if (held.some(([id]) => id === slotId)) return true;
      if (held.length >= limit) return false;
      const slots = Object.fromEntries([...held, [slotId, expiresAt]]);
      const version = Number(Item?.['ver'] ?? 0);
      const rewritten = await unlessConditionFails(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...Key, s: slots, ver: version + 1, ttl: Math.max(expiresAt, ...held.map(([, expiry]) => expiry)) },
            // Race: another writer changed the slots since the read; start over from its state.
            ConditionExpression: Item === undefined ? 'attribute_not_exists(pk)' : '#ver = :ver',
            ...(Item === undefined ? {} : { ExpressionAttributeNames: { '#ver': 'ver' }, ExpressionAttributeValues: { ':ver': version } }),
          }),
        ),
      );
      if (rewritten) return true;
    }
    throw new Error(`slot key ${key}: too many concurrent writers, gave up after ${SLOT_ROUNDS} rounds`);
  }

  async openSlots(key: string, expiresAt: number): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEYS.slots(key), s: {}, ver: 0, ttl: expiresAt },
          // Never over a set that holds slots already.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async releaseSlot(key: string, slotId: string): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.slots(key),
          UpdateExpression: 'REMOVE #s.#id ADD #ver :one',
          // Without it, a release after the item expired would create an empty item.
          ConditionExpression: 'attribute_exists(#s)',
          ExpressionAttributeNames: { '#s': 's', '#id': slotId, '#ver': 'ver' },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    );
  }
}
