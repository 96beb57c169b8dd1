import type { BeginOutcome, ConversationMeta, ConversationRun, ConversationStore, Page, StoredMessage, TurnEnd } from './conversation-store';

const ownerKey = (owner: string, conversationId: string): string => `${owner}\u0000${conversationId}`;

/** The in-memory ConversationStore: atomic because Node runs one callback at a time. */
export class MemoryConversationStore implements ConversationStore {
  private readonly metas = new Map<string, ConversationMeta>();
  /** conversationId → index → message. */
  private readonly messagesOf = new Map<string, Map<number, StoredMessage>>();

  /** CONVERSATION_RETENTION_DAYS: a message is kept that long after it was written, a conversation after its last turn (0: until deleted). */
  constructor(private readonly retentionDays = 0) {}

  /** Past its retention at `writtenAt` (epoch ms): read as gone, as DynamoDB's reads leave out an item past its `ttl`. */
  private expired(writtenAt: number): boolean {
    return this.retentionDays > 0 && writtenAt + this.retentionDays * 86_400_000 <= Date.now();
  }

  /** The conversation, unless it is past its retention. */
  private live(key: string): ConversationMeta | undefined {
    const meta = this.metas.get(key);
    return meta === undefined || this.expired(meta.updatedAt) ? undefined : meta;
  }

  create(meta: ConversationMeta): Promise<void> {
    const key = ownerKey(meta.owner, meta.conversationId);
    if (this.metas.has(key)) return Promise.reject(new Error(`conversation ${meta.conversationId} exists`));
    this.metas.set(key, meta);
    return Promise.resolve();
  }

  get(owner: string, conversationId: string): Promise<ConversationMeta | undefined> {
    return Promise.resolve(this.live(ownerKey(owner, conversationId)));
  }

  list(owner: string, { limit, cursor }: { readonly limit: number; readonly cursor?: string }): Promise<Page<ConversationMeta>> {
    // Newest first: ids begin with their creation time, so they sort as they were made.
    const mine = [...this.metas.values()].filter((m) => m.owner === owner && !this.expired(m.updatedAt) && (cursor === undefined || m.conversationId < cursor)).sort((a, b) => (a.conversationId < b.conversationId ? 1 : -1));
    const items = mine.slice(0, limit);
    return Promise.resolve({ items, cursor: mine.length > limit ? items[items.length - 1]?.conversationId : undefined });
  }

  rename(owner: string, conversationId: string, title: string, nowMs: number): Promise<boolean> {
    return Promise.resolve(this.update(owner, conversationId, (m) => ({ ...m, title, updatedAt: nowMs })));
  }

  begin(owner: string, conversationId: string, run: ConversationRun, reserve: number, nowMs: number, title?: string): Promise<BeginOutcome> {
    const meta = this.live(ownerKey(owner, conversationId));
    if (meta === undefined) return Promise.resolve({ outcome: 'unknown' });
    if (meta.running !== undefined && meta.running.until > nowMs) return Promise.resolve({ outcome: 'busy', meta });
    const next: ConversationMeta = { ...meta, running: run, nextIndex: meta.nextIndex + reserve, title: meta.title === '' && title !== undefined ? title : meta.title };
    this.metas.set(ownerKey(owner, conversationId), next);
    return Promise.resolve({ outcome: 'begun', meta: next, firstIndex: next.nextIndex - reserve });
  }

  abandon(owner: string, conversationId: string, jobId: string): Promise<void> {
    this.update(owner, conversationId, (m) => (m.running?.jobId === jobId ? { ...m, running: undefined } : m));
    return Promise.resolve();
  }

  append(conversationId: string, message: StoredMessage): Promise<boolean> {
    const all = this.messagesOf.get(conversationId) ?? new Map<number, StoredMessage>();
    const there = all.get(message.index);
    if (there !== undefined) {
      if (there.jobId !== message.jobId) return Promise.reject(new Error(`message ${message.index} of ${conversationId} belongs to another job`));
      return Promise.resolve(false);
    }
    all.set(message.index, message);
    this.messagesOf.set(conversationId, all);
    return Promise.resolve(true);
  }

  messages(conversationId: string, { limit, cursor, order }: { readonly limit: number; readonly cursor?: string; readonly order: 'oldest' | 'newest' }): Promise<Page<StoredMessage>> {
    const from = cursor === undefined ? undefined : Number(cursor);
    const sorted = this.sorted(conversationId);
    const ordered = order === 'oldest' ? sorted.filter((m) => from === undefined || m.index > from) : sorted.reverse().filter((m) => from === undefined || m.index < from);
    const items = ordered.slice(0, limit);
    return Promise.resolve({ items, cursor: ordered.length > limit ? String(items[items.length - 1]?.index) : undefined });
  }

  history(conversationId: string): Promise<StoredMessage[]> {
    return Promise.resolve(this.sorted(conversationId));
  }

  remove(conversationId: string, indexes: readonly number[]): Promise<void> {
    const all = this.messagesOf.get(conversationId);
    for (const index of indexes) all?.delete(index);
    return Promise.resolve();
  }

  finish(owner: string, conversationId: string, jobId: string, end: TurnEnd): Promise<boolean> {
    const meta = this.metas.get(ownerKey(owner, conversationId));
    if (meta?.running?.jobId !== jobId) return Promise.resolve(false);
    this.metas.set(ownerKey(owner, conversationId), {
      ...meta,
      running: undefined,
      messageCount: Math.max(0, meta.messageCount + end.added - end.removed),
      historyTokens: end.historyTokens,
      lastModelId: end.lastModelId ?? meta.lastModelId,
      pendingToolUseIds: end.pendingToolUseIds,
      updatedAt: end.updatedAt,
      bytes: Math.max(0, meta.bytes + (end.bytes ?? 0)),
    });
    return Promise.resolve(true);
  }

  delete(owner: string, conversationId: string): Promise<boolean> {
    const existed = this.metas.delete(ownerKey(owner, conversationId));
    if (existed) this.messagesOf.delete(conversationId);
    return Promise.resolve(existed);
  }

  /** Conversations and messages held (leak checks). */
  get size(): { conversations: number; messages: number } {
    return { conversations: this.metas.size, messages: [...this.messagesOf.values()].reduce((sum, m) => sum + m.size, 0) };
  }

  private sorted(conversationId: string): StoredMessage[] {
    return [...(this.messagesOf.get(conversationId)?.values() ?? [])].filter((m) => !this.expired(m.createdAt)).sort((a, b) => a.index - b.index);
  }

  private update(owner: string, conversationId: string, change: (meta: ConversationMeta) => ConversationMeta): boolean {
    const key = ownerKey(owner, conversationId);
    const meta = this.metas.get(key);
    if (meta === undefined) return false;
    this.metas.set(key, change(meta));
    return true;
  }
}
