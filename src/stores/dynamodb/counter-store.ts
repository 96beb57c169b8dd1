import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AddOutcome, CounterStore, FieldAdd, PendingAdd, PendingMark, SlotHolders, SlotTake } from '../counter-store';
import { KEYS, nowSeconds, unlessConditionFails } from './table';
import { DynamoSlots, WRITE_ROUNDS } from './slots';
import { markName, marksOf, refusalOf, refusedBy } from './counter-items';

/**
 * CounterStore on DynamoDB. A counter is one item updated with conditional atomic ADDs (its
 * pending adds marked beside: counter-items.ts); slot sets are DynamoSlots' (slots.ts).
 */
export class DynamoCounterStore implements CounterStore {
  private readonly slots: DynamoSlots;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = new DynamoSlots(db, tableName, now);
  }

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
    for (let round = 0; round <= WRITE_ROUNDS; round += 1) {
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
    throw new Error(`counter ${key}: too many concurrent writers, gave up after ${WRITE_ROUNDS} rounds`);
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

  acquireSlot(key: string, slotId: string, limit: number, expiresAt: number, pendingSince?: number): Promise<SlotTake> {
    return this.slots.acquireSlot(key, slotId, limit, expiresAt, pendingSince);
  }

  confirmSlot(key: string, slotId: string): Promise<void> {
    return this.slots.confirmSlot(key, slotId);
  }

  slotHolders(key: string): Promise<SlotHolders> {
    return this.slots.slotHolders(key);
  }

  openSlots(key: string, expiresAt: number): Promise<void> {
    return this.slots.openSlots(key, expiresAt);
  }

  releaseSlot(key: string, slotId: string): Promise<void> {
    return this.slots.releaseSlot(key, slotId);
  }
}
