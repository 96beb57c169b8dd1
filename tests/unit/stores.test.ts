import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';

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
