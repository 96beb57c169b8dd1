import type { ConversationMeta, ConversationStore, StoredMessage } from '../../src/stores/conversation-store';
import { DynamoConversationStore } from '../../src/stores/dynamodb/conversation-store';
import { ensureTable } from '../../src/stores/dynamodb/table';
import { MemoryConversationStore } from '../../src/stores/memory-conversation-store';
import { documentClient, useDynalite } from '../helpers/dynamo';

/** The one contract every ConversationStore passes, in memory and on DynamoDB (dynalite). */

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const meta = (conversationId: string, owner = 'user:ann', extra: Partial<ConversationMeta> = {}): ConversationMeta => ({
  conversationId,
  owner,
  title: 'New conversation',
  createdAt: T0,
  updatedAt: T0,
  messageCount: 0,
  nextIndex: 0,
  lastModelId: undefined,
  defaults: {},
  historyTokens: 0,
  pendingToolUseIds: [],
  running: undefined,
  bytes: 0,
  ...extra,
});
const run = (jobId: string, until = T0 + 60_000) => ({ requestId: `r-${jobId}`, jobId, streamKey: `s-${jobId}`, until });
const message = (index: number, jobId: string, extra: Partial<StoredMessage> = {}): StoredMessage => ({
  index,
  role: index % 2 === 0 ? 'user' : 'assistant',
  content: `message ${index}`,
  createdAt: T0 + index,
  requestId: `r-${jobId}`,
  jobId,
  ...extra,
});
const end = (added: number, extra = {}) => ({ added, removed: 0, historyTokens: 100, lastModelId: 'm', pendingToolUseIds: [], updatedAt: T0 + 1000, ...extra });

function conversationContract(name: string, make: (retentionDays?: number) => Promise<ConversationStore>): void {
  describe(`${name} conversation store`, () => {
    let s: ConversationStore;
    beforeEach(async () => {
      s = await make();
    });

    it('with a retention, reads a message past it, and a conversation whose last turn is past it, as gone', async () => {
      const kept = await make(1);
      const now = Date.now();
      const day = 86_400_000;
      await kept.create(meta('c_old', 'user:ann', { createdAt: now - 3 * day, updatedAt: now - 2 * day }));
      await kept.create(meta('c_live', 'user:ann', { createdAt: now - 3 * day, updatedAt: now - day / 2 }));
      await kept.append('c_live', message(0, 'j1', { createdAt: now - 2 * day }));
      await kept.append('c_live', message(1, 'j1', { createdAt: now - 2 * day }));
      await kept.append('c_live', message(2, 'j2', { createdAt: now - 60_000 }));
      expect(await kept.get('user:ann', 'c_old')).toBeUndefined();
      expect((await kept.list('user:ann', { limit: 10 })).items.map((m) => m.conversationId)).toEqual(['c_live']);
      expect((await kept.begin('user:ann', 'c_old', run('j9', now + 60_000), 2, now)).outcome).toBe('unknown');
      expect((await kept.history('c_live')).map((m) => m.index)).toEqual([2]);
      expect((await kept.messages('c_live', { limit: 10, order: 'newest' })).items.map((m) => m.index)).toEqual([2]);
      // Without one, nothing expires.
      await s.create(meta('c_old', 'user:ann', { createdAt: now - 3 * day, updatedAt: now - 2 * day }));
      expect(await s.get('user:ann', 'c_old')).toBeDefined();
    });

    it('counts the bytes each turn adds and takes away', async () => {
      await s.create(meta('c_1'));
      await s.begin('user:ann', 'c_1', run('j1'), 2, T0);
      await s.finish('user:ann', 'c_1', 'j1', end(2, { bytes: 500 }));
      await s.begin('user:ann', 'c_1', run('j2'), 2, T0);
      await s.finish('user:ann', 'c_1', 'j2', end(0, { bytes: -200 }));
      expect((await s.get('user:ann', 'c_1'))?.bytes).toBe(300);
    });

    it('keeps a conversation for its owner only: another owner reads it as unknown', async () => {
      const defaults = { systemPrompt: 'Be brief.', modelId: 'mock.echo-v1', tools: [{ name: 'f', inputSchema: { type: 'object' as const } }] };
      await s.create(meta('c_1', 'user:ann', { defaults }));
      expect(await s.get('user:ann', 'c_1')).toEqual(meta('c_1', 'user:ann', { defaults }));
      expect(await s.get('user:bob', 'c_1')).toBeUndefined();
      expect(await s.rename('user:bob', 'c_1', 'stolen', T0)).toBe(false);
      expect(await s.delete('user:bob', 'c_1')).toBe(false);
      expect(await s.get('user:ann', 'c_1')).toBeDefined();
      await expect(s.create(meta('c_1'))).rejects.toThrow();
    });

    it('lists an owner’s conversations newest first, a page at a time', async () => {
      for (const id of ['c_0001', 'c_0002', 'c_0003', 'c_0004', 'c_0005']) await s.create(meta(id));
      await s.create(meta('c_0009', 'user:bob'));
      const first = await s.list('user:ann', { limit: 2 });
      expect(first.items.map((m) => m.conversationId)).toEqual(['c_0005', 'c_0004']);
      const second = await s.list('user:ann', { limit: 2, cursor: first.cursor! });
      expect(second.items.map((m) => m.conversationId)).toEqual(['c_0003', 'c_0002']);
      const last = await s.list('user:ann', { limit: 2, cursor: second.cursor! });
      expect(last).toEqual({ items: [expect.objectContaining({ conversationId: 'c_0001' })], cursor: undefined });
    });

    it('runs one answer at a time, reserving its message indexes, until it ends or its time runs out', async () => {
      await s.create(meta('c_1'));
      const first = await s.begin('user:ann', 'c_1', run('j1'), 2, T0);
      expect(first).toMatchObject({ outcome: 'begun', firstIndex: 0, meta: { nextIndex: 2, running: run('j1') } });
      expect(await s.begin('user:ann', 'c_1', run('j2'), 2, T0 + 1)).toMatchObject({ outcome: 'busy', meta: { running: run('j1') } });
      expect(await s.begin('user:bob', 'c_1', run('j3'), 2, T0 + 1)).toEqual({ outcome: 'unknown' });
      // Only the running job ends it, once.
      expect(await s.finish('user:ann', 'c_1', 'j2', end(2))).toBe(false);
      expect(await s.finish('user:ann', 'c_1', 'j1', end(2, { pendingToolUseIds: ['t1'] }))).toBe(true);
      expect(await s.finish('user:ann', 'c_1', 'j1', end(2))).toBe(false);
      expect(await s.get('user:ann', 'c_1')).toMatchObject({ messageCount: 2, historyTokens: 100, lastModelId: 'm', pendingToolUseIds: ['t1'], updatedAt: T0 + 1000, running: undefined });
      expect(await s.begin('user:ann', 'c_1', run('j2'), 2, T0 + 2)).toMatchObject({ outcome: 'begun', firstIndex: 2 });
      // An answer whose worker died frees the conversation when its time runs out.
      expect(await s.begin('user:ann', 'c_1', run('j3'), 2, T0 + 59_999)).toMatchObject({ outcome: 'busy' });
      expect(await s.begin('user:ann', 'c_1', run('j3', T0 + 200_000), 2, T0 + 60_000)).toMatchObject({ outcome: 'begun', firstIndex: 4 });
      // A begin whose request was refused gives the conversation back, and only its own.
      await s.abandon('user:ann', 'c_1', 'j2');
      expect((await s.get('user:ann', 'c_1'))?.running?.jobId).toBe('j3');
      await s.abandon('user:ann', 'c_1', 'j3');
      expect((await s.get('user:ann', 'c_1'))?.running).toBeUndefined();
    });

    it('writes each message once: the same job again changes nothing, another job is refused', async () => {
      await s.create(meta('c_1'));
      expect(await s.append('c_1', message(0, 'j1'))).toBe(true);
      expect(await s.append('c_1', message(0, 'j1', { content: 'changed' }))).toBe(false);
      await expect(s.append('c_1', message(0, 'j2'))).rejects.toThrow();
      expect(await s.history('c_1')).toEqual([message(0, 'j1')]);
    });

    it('pages messages oldest or newest first, and keeps every field and block', async () => {
      await s.create(meta('c_1'));
      const rich = message(1, 'j1', {
        content: [{ type: 'text', text: 'calling' }, { type: 'tool_use', toolUseId: 't1', name: 'f', input: { a: [1, 2] } }],
        status: 'complete',
        usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
        modelId: 'm',
        stopReason: 'tool_use',
      });
      await s.append('c_1', message(0, 'j1'));
      await s.append('c_1', rich);
      for (let i = 2; i < 7; i += 1) await s.append('c_1', message(i, 'j2'));
      const oldest = await s.messages('c_1', { limit: 3, order: 'oldest' });
      expect(oldest.items).toEqual([message(0, 'j1'), rich, message(2, 'j2')]);
      const next = await s.messages('c_1', { limit: 3, order: 'oldest', cursor: oldest.cursor! });
      expect(next.items.map((m) => m.index)).toEqual([3, 4, 5]);
      expect((await s.messages('c_1', { limit: 3, order: 'oldest', cursor: next.cursor! })).items.map((m) => m.index)).toEqual([6]);
      const newest = await s.messages('c_1', { limit: 4, order: 'newest' });
      expect(newest.items.map((m) => m.index)).toEqual([6, 5, 4, 3]);
      expect(await s.messages('c_1', { limit: 4, order: 'newest', cursor: newest.cursor! })).toEqual({ items: [message(2, 'j2'), rich, message(0, 'j1')], cursor: undefined });
    });

    it('keeps a message far larger than a DynamoDB item whole, and removes messages by index', async () => {
      await s.create(meta('c_1'));
      // 1.2 MB of text that deflates poorly: several part items on DynamoDB.
      let text = '';
      for (let i = 0; text.length < 1_200_000; i += 1) text += `${(i * 2654435761) % 4294967296} `;
      const big = message(1, 'j1', { content: [{ type: 'text', text }] });
      await s.append('c_1', message(0, 'j1'));
      await s.append('c_1', big);
      await s.append('c_1', message(2, 'j2'));
      expect(await s.history('c_1')).toEqual([message(0, 'j1'), big, message(2, 'j2')]);
      expect((await s.messages('c_1', { limit: 1, order: 'newest', cursor: '2' })).items).toEqual([big]);
      await s.remove('c_1', [1, 2]);
      expect(await s.history('c_1')).toEqual([message(0, 'j1')]);
    });

    it('deletes a conversation with every message', async () => {
      await s.create(meta('c_1'));
      for (let i = 0; i < 30; i += 1) await s.append('c_1', message(i, 'j1'));
      expect(await s.delete('user:ann', 'c_1')).toBe(true);
      expect(await s.get('user:ann', 'c_1')).toBeUndefined();
      expect(await s.history('c_1')).toEqual([]);
      expect(await s.delete('user:ann', 'c_1')).toBe(false);
    });
  });
}

conversationContract('memory', (retentionDays) => Promise.resolve(new MemoryConversationStore(retentionDays)));

describe('on dynalite, through the real SDK', () => {
  const dynalite = useDynalite();
  let tables = 0;
  conversationContract('DynamoDB', async (retentionDays) => {
    const table = `conversations-${(tables += 1)}`;
    await ensureTable(dynalite.client, table);
    return new DynamoConversationStore(documentClient(dynalite.client), table, retentionDays);
  });
});
