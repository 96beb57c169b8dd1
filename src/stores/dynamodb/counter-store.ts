import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AddOutcome, CounterStore, FieldAdd, PendingAdd, PendingMark, PendingSlot, SlotHolders, SlotTake } from '../counter-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';

/** The first field, in order, that the adds would take past its limit on this item. */
function refusalOf(item: Record<string, unknown> | undefined, adds: readonly FieldAdd[]): string | undefined {
  return adds.find(({ field, amount, limit }) => Number(item?.[field] ?? 0) + amount > limit)?.field;
}

/** The attribute that marks a pending add on a counter item. */
const markName = (id: string): string => `p_${id}`;

/** The pending adds marked on a counter item. */
function marksOf(item: Record<string, unknown>): PendingAdd[] {
  return Object.entries(item)
    .filter(([name]) => name.startsWith('p_'))
    .map(([name, mark]) => {
      const { s: since, a: amounts } = mark as { s: number; a: Record<string, number> };
      return { id: name.slice(2), since: Number(since), amounts: Object.fromEntries(Object.entries(amounts).map(([field, amount]) => [field, Number(amount)])) };
    });
}

/** A refusal read off the counter item as it is (undefined: the counter counts 0). */
function refusedBy(item: Record<string, unknown> | undefined, adds: readonly FieldAdd[]): AddOutcome {
  return {
    ok: false,
    refused: refusalOf(item, adds) ?? adds[0]?.field ?? '',
    values: Object.fromEntries(adds.map(({ field }) => [field, Number(item?.[field] ?? 0)])),
    pending: item === undefined ? [] : marksOf(item),
  };
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
   * hold together however many instances race; a pending add also sets its mark, a top-level
   * attribute `p_{id}` ({ s: since, a: amounts }), in the same write. Refused, a consistent read
   * tells which field it was (with the values and the marks) — or that the counter had expired
   * (restarted with these amounts, as in `tryAdd`).
   */
  async tryAddEach(key: string, adds: readonly FieldAdd[], expiresAt: number, pending?: PendingMark): Promise<AddOutcome> {
    if (adds.length === 0) return { ok: true };
    const markOf = (mark: PendingMark): Record<string, unknown> => ({ s: mark.since, a: Object.fromEntries(adds.map(({ field, amount }) => [field, amount])) });
    for (let round = 0; round <= SLOT_ROUNDS; round += 1) {
      const now = nowSeconds(this.now);
      // An amount above its limit never fits — and the write below would let it through on a
      // counter that does not exist yet — so only a read tells which field refuses first.
      if (adds.some(({ amount, limit }) => amount > limit)) return this.refusal(key, adds, now);
      const names: Record<string, string> = { '#ttl': 'ttl' };
      const values: Record<string, unknown> = { ':expires': expiresAt, ':now': now };
      adds.forEach(({ field, amount, limit }, i) => {
        names[`#f${i}`] = field;
        values[`:a${i}`] = amount;
        values[`:m${i}`] = limit - amount;
      });
      if (pending !== undefined) {
        names['#mark'] = markName(pending.id);
        values[':mark'] = markOf(pending);
      }
      const added = await unlessConditionFails(
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: KEYS.counter(key),
            UpdateExpression: `ADD ${adds.map((_, i) => `#f${i} :a${i}`).join(', ')} SET #ttl = :expires${pending === undefined ? '' : ', #mark = :mark'}`,
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
              Item: {
                ...KEYS.counter(key),
                ...Object.fromEntries(adds.map(({ field, amount }) => [field, amount])),
                ...(pending === undefined ? {} : { [markName(pending.id)]: markOf(pending) }),
                ttl: expiresAt,
              },
              // Race: two instances restarting the same expired counter; one wins, the other retries.
              ConditionExpression: '#ttl <= :now',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':now': now },
            }),
          ),
        );
        if (restarted) return { ok: true };
      } else if (refusalOf(Item, adds) !== undefined) {
        return refusedBy(Item, adds);
      }
      // The counter changed between the write and the read: try again, a few times.
    }
    throw new Error(`counter ${key}: too many concurrent writers, gave up after ${SLOT_ROUNDS} rounds`);
  }

  private async refusal(key: string, adds: readonly FieldAdd[], now: number): Promise<AddOutcome> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.counter(key), ConsistentRead: true }));
    const live = Item !== undefined && Number(Item['ttl']) > now ? Item : undefined;
    return refusedBy(live, adds);
  }

  async confirmAdd(key: string, id: string): Promise<void> {
    // Without the condition, a confirm after the window's item expired would make an item with no TTL.
    await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.counter(key),
          UpdateExpression: 'REMOVE #mark',
          ConditionExpression: 'attribute_exists(#mark)',
          ExpressionAttributeNames: { '#mark': markName(id) },
        }),
      ),
    );
  }

  async takeBack(key: string, adds: ReadonlyArray<Pick<FieldAdd, 'field' | 'amount'>>, id: string): Promise<void> {
    if (adds.length === 0) return;
    const names: Record<string, string> = { '#ttl': 'ttl', '#mark': markName(id) };
    const values: Record<string, number> = { ':now': nowSeconds(this.now) };
    adds.forEach(({ field, amount }, i) => {
      names[`#f${i}`] = field;
      values[`:n${i}`] = -amount;
    });
    // A failed condition: the window has passed (the counter counts 0 anyway) or was never written.
    await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEYS.counter(key),
          UpdateExpression: `ADD ${adds.map((_, i) => `#f${i} :n${i}`).join(', ')} REMOVE #mark`,
          // Only an add still marked is taken back: a second take-back never takes twice.
          ConditionExpression: 'attribute_exists(#mark) AND #ttl > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async pendingAdds(key: string): Promise<PendingAdd[]> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEYS.counter(key), ConsistentRead: true }));
    return Item !== undefined && Number(Item['ttl']) > nowSeconds(this.now) ? marksOf(Item) : [];
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
   * Pending slots are also marked in a second map `p` (slotId → since, epoch ms); the write
   * returns the item as it left it (no extra read cost), which tells the other pending holders.
   */
  async acquireSlot(key: string, slotId: string, limit: number, expiresAt: number, pendingSince?: number): Promise<SlotTake> {
    if (limit <= 0) return { taken: false, pending: [] };
    const Key = KEYS.slots(key);
    // The item's TTL attribute in whole seconds (DynamoDB's TTL reads epoch seconds).
    const ttl = Math.ceil(expiresAt);
    const mark = pendingSince === undefined ? 'REMOVE #p.#id' : '';
    for (let round = 0; round < SLOT_ROUNDS; round += 1) {
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
    throw new Error(`slot key ${key}: too many concurrent writers, gave up after ${SLOT_ROUNDS} rounds`);
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
