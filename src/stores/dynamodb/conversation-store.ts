import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BeginOutcome, ConversationMeta, ConversationRun, ConversationStore, Page, StoredMessage, TurnEnd } from '../conversation-store';
import { bodyParts, messagesPk, messageSk, metaOf, ownerKey, pack, partSk, unpack } from './conversation-items';
import { deleteItems, unlessConditionFails } from './table';

/**
 * ConversationStore on DynamoDB, in the one table: a conversation item under its owner
 * (`OWNER#{owner}` / `CONV#{id}`: a listing is one Query, newest first since ids begin with their
 * creation time), its messages in their own partition (`CONV#{id}` / `MSG#{index}`: a history is one
 * Query, in order), each message's content deflated — past 300 KB split into part items
 * (`PART#{index}#{k}`), so no item comes near DynamoDB's 400 KB whatever the model wrote.
 */
export class DynamoConversationStore implements ConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** CONVERSATION_RETENTION_DAYS: items carry the table's `ttl` that many days after their write (0: none). */
    private readonly retentionDays = 0,
  ) {}

  /** The `ttl` (epoch seconds) of an item written at `ms`, as an attribute map to spread. */
  private ttlOf(ms: number): { ttl?: number } {
    return this.retentionDays > 0 ? { ttl: Math.floor(ms / 1000) + this.retentionDays * 86_400 } : {};
  }

  /** Past its retention: DynamoDB deletes such an item within days, so reads leave it out at once. */
  private expired(item: Record<string, unknown>): boolean {
    return typeof item['ttl'] === 'number' && item['ttl'] * 1000 <= Date.now();
  }

  async create(meta: ConversationMeta): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...ownerKey(meta.owner, meta.conversationId),
          // No title until one is given or taken from the first message (begin's if_not_exists).
          ...(meta.title !== '' ? { title: meta.title } : {}),
          createdAt: meta.createdAt,
          updatedAt: meta.updatedAt,
          messageCount: meta.messageCount,
          nextIndex: meta.nextIndex,
          defaults: pack(meta.defaults),
          historyTokens: meta.historyTokens,
          pendingToolUseIds: [...meta.pendingToolUseIds],
          ...this.ttlOf(meta.updatedAt),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(owner: string, conversationId: string): Promise<ConversationMeta | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: ownerKey(owner, conversationId), ConsistentRead: true }));
    return Item === undefined || this.expired(Item) ? undefined : metaOf(Item);
  }

  async list(owner: string, { limit, cursor }: { readonly limit: number; readonly cursor?: string }): Promise<Page<ConversationMeta>> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: cursor === undefined ? 'pk = :pk AND begins_with(sk, :conv)' : 'pk = :pk AND sk BETWEEN :conv AND :before',
        ExpressionAttributeValues: { ':pk': `OWNER#${owner}`, ':conv': 'CONV#', ...(cursor === undefined ? {} : { ':before': `CONV#${cursor}` }) },
        ScanIndexForward: false,
        Limit: limit + 1 + (cursor === undefined ? 0 : 1),
      }),
    );
    // BETWEEN includes the cursor itself: it was the last of the page before.
    const items = (page.Items ?? []).filter((item) => !this.expired(item)).map(metaOf).filter((m) => m.conversationId !== cursor);
    const shown = items.slice(0, limit);
    return { items: shown, cursor: items.length > limit ? shown[shown.length - 1]?.conversationId : undefined };
  }

  async rename(owner: string, conversationId: string, title: string, nowMs: number): Promise<boolean> {
    const renamed = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ownerKey(owner, conversationId),
          UpdateExpression: 'SET title = :t, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': title, ':now': nowMs },
        }),
      ),
    );
    return renamed !== undefined;
  }

  async begin(owner: string, conversationId: string, run: ConversationRun, reserve: number, nowMs: number, title?: string): Promise<BeginOutcome> {
    const begun = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ownerKey(owner, conversationId),
          UpdateExpression: `SET running = :run${title !== undefined ? ', title = if_not_exists(title, :title)' : ''} ADD nextIndex :n`,
          // Race: two frames of one conversation at once (two tabs): one takes it, the other is busy.
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#ttl) OR #ttl > :nowS) AND (attribute_not_exists(running) OR running.#until <= :now)',
          ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':run': run, ':n': reserve, ':now': nowMs, ':nowS': Math.floor(nowMs / 1000), ...(title !== undefined ? { ':title': title } : {}) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (begun?.Attributes !== undefined) {
      const meta = metaOf(begun.Attributes);
      return { outcome: 'begun', meta, firstIndex: meta.nextIndex - reserve };
    }
    const meta = await this.get(owner, conversationId);
    return meta === undefined ? { outcome: 'unknown' } : { outcome: 'busy', meta };
  }

  async abandon(owner: string, conversationId: string, jobId: string): Promise<void> {
    await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ownerKey(owner, conversationId),
          UpdateExpression: 'REMOVE running',
          ConditionExpression: 'running.jobId = :job',
          ExpressionAttributeValues: { ':job': jobId },
        }),
      ),
    );
  }

  async append(conversationId: string, message: StoredMessage): Promise<boolean> {
    const { content, ...rest } = message;
    const body = pack(content);
    const parts = bodyParts(body);
    // The parts first: a message exists when its head item does, and the head is written last.
    await Promise.all(parts.map((chunk, k) => this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk: messagesPk(conversationId), sk: partSk(message.index, k), chunk, ...this.ttlOf(message.createdAt) } }))));
    const written = await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: messagesPk(conversationId), sk: messageSk(message.index), ...rest, ...(parts.length > 0 ? { parts: parts.length } : { body }), ...this.ttlOf(message.createdAt) },
          // Exactly once: a redelivered job writes what is there already; another job never overwrites it.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (written !== undefined) return true;
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: messagesPk(conversationId), sk: messageSk(message.index) }, ConsistentRead: true }));
    if (Item?.['jobId'] !== message.jobId) throw new Error(`message ${message.index} of ${conversationId} belongs to another job`);
    return false;
  }

  async messages(conversationId: string, { limit, cursor, order }: { readonly limit: number; readonly cursor?: string; readonly order: 'oldest' | 'newest' }): Promise<Page<StoredMessage>> {
    const oldest = order === 'oldest';
    const bound = cursor === undefined ? undefined : messageSk(Number(cursor));
    // Between the bound and the end of the messages (never into the PART# items after them),
    // the bound itself excluded below: it was the last of the page before.
    const [from, to] = oldest ? [bound ?? messageSk(0), messageSk(999_999_999)] : [messageSk(0), bound ?? messageSk(999_999_999)];
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': messagesPk(conversationId), ':from': from, ':to': to },
        ScanIndexForward: oldest,
        ConsistentRead: true,
        Limit: limit + 1 + (bound === undefined ? 0 : 1),
      }),
    );
    const heads = (page.Items ?? []).filter((item) => String(item['sk']).startsWith('MSG#') && item['sk'] !== bound && !this.expired(item));
    const items = await Promise.all(heads.slice(0, limit).map((item) => this.messageOf(conversationId, item)));
    return { items, cursor: heads.length > limit ? String(items[items.length - 1]?.index) : undefined };
  }

  async history(conversationId: string): Promise<StoredMessage[]> {
    const heads: Array<Record<string, unknown>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :msg)',
          ExpressionAttributeValues: { ':pk': messagesPk(conversationId), ':msg': 'MSG#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      heads.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return Promise.all(heads.filter((item) => !this.expired(item)).map((item) => this.messageOf(conversationId, item)));
  }

  async remove(conversationId: string, indexes: readonly number[]): Promise<void> {
    const keys = indexes.map((index) => ({ pk: messagesPk(conversationId), sk: messageSk(index) }));
    await deleteItems(this.db, this.tableName, keys);
  }

  async finish(owner: string, conversationId: string, jobId: string, end: TurnEnd): Promise<boolean> {
    const finished = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ownerKey(owner, conversationId),
          UpdateExpression: `SET historyTokens = :tokens, pendingToolUseIds = :pending, updatedAt = :now${end.lastModelId !== undefined ? ', lastModelId = :model' : ''}${this.retentionDays > 0 ? ', #ttl = :ttl' : ''} ADD messageCount :delta, bytes :bytes REMOVE running`,
          // Exactly once: only the running job ends its turn, so a redelivery counts nothing twice.
          ConditionExpression: 'running.jobId = :job',
          ...(this.retentionDays > 0 ? { ExpressionAttributeNames: { '#ttl': 'ttl' } } : {}),
          ExpressionAttributeValues: {
            ':tokens': end.historyTokens,
            ':pending': [...end.pendingToolUseIds],
            ':now': end.updatedAt,
            ':delta': end.added - end.removed,
            ':bytes': end.bytes ?? 0,
            ...(this.retentionDays > 0 ? { ':ttl': this.ttlOf(end.updatedAt).ttl } : {}),
            ':job': jobId,
            ...(end.lastModelId !== undefined ? { ':model': end.lastModelId } : {}),
          },
        }),
      ),
    );
    return finished !== undefined;
  }

  async delete(owner: string, conversationId: string): Promise<boolean> {
    const deleted = await unlessConditionFails(
      this.db.send(new DeleteCommand({ TableName: this.tableName, Key: ownerKey(owner, conversationId), ConditionExpression: 'attribute_exists(pk)' })),
    );
    if (deleted === undefined) return false;
    // The conversation is gone for every reader already; its messages and parts follow, page by page.
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': messagesPk(conversationId) }, ProjectionExpression: 'pk, sk', ExclusiveStartKey: startKey }),
      );
      await deleteItems(this.db, this.tableName, (page.Items ?? []).map((item) => ({ pk: String(item['pk']), sk: String(item['sk']) })));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return true;
  }

  private async messageOf(conversationId: string, item: Record<string, unknown>): Promise<StoredMessage> {
    const { pk: _pk, sk: _sk, body, parts, ...rest } = item;
    let bytes = body as Uint8Array | undefined;
    if (typeof parts === 'number') {
      const index = Number(String(item['sk']).slice('MSG#'.length));
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
          ExpressionAttributeValues: { ':pk': messagesPk(conversationId), ':part': partSk(index, 0).slice(0, -4) },
          ConsistentRead: true,
        }),
      );
      bytes = Buffer.concat((page.Items ?? []).map((p) => Buffer.from(p['chunk'] as Uint8Array)));
    }
    return { ...(rest as Omit<StoredMessage, 'content'>), content: unpack(bytes) };
  }
}
