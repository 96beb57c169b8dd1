import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';

describe('MemoryConnectionStore', () => {
  it('treats a record past its ttl as absent, as DynamoDB readers must', async () => {
    let now = 1_000_000;
    const store = new MemoryConnectionStore(() => now);
    await store.put({ connectionId: 'c', connectedAt: now, domainName: 'd', stage: 's', ttl: now / 1000 + 60 });
    expect(await store.get('c')).toMatchObject({ connectionId: 'c' });
    now += 61_000;
    expect(await store.get('c')).toBeUndefined();
  });
});

describe('MemoryRequestStore', () => {
  it('scopes requests to their connection: another connection can neither see nor cancel them', async () => {
    const store = new MemoryRequestStore();
    expect(await store.begin('conn-a', 'r-1', 60)).toBe(true);
    expect(await store.begin('conn-a', 'r-1', 60)).toBe(false);
    expect(await store.requestCancel('conn-b', 'r-1')).toBe(false);
    expect(await store.isCancelled('conn-a', 'r-1')).toBe(false);
    expect(await store.requestCancel('conn-a', 'r-1')).toBe(true);
    expect(await store.isCancelled('conn-a', 'r-1')).toBe(true);
    await store.end('conn-a', 'r-1');
    expect(store.size).toBe(0);
  });

  it('cancels every request of one connection and no other', async () => {
    const store = new MemoryRequestStore();
    await store.begin('a', '1', 60);
    await store.begin('a', '2', 60);
    await store.begin('ab', '1', 60);
    await store.cancelAll('a');
    expect(await store.isCancelled('a', '1')).toBe(true);
    expect(await store.isCancelled('a', '2')).toBe(true);
    expect(await store.isCancelled('ab', '1')).toBe(false);
  });
});
