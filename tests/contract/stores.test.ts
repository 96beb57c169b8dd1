import type { ConnectionRecord } from '../../src/models/connection';
import type { ConnectionStore } from '../../src/stores/connection-store';
import { DynamoConnectionStore } from '../../src/stores/dynamodb/connection-store';
import { DynamoRequestStore } from '../../src/stores/dynamodb/request-store';
import { ensureTable, KEYS } from '../../src/stores/dynamodb/table';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';
import type { RequestStore } from '../../src/stores/request-store';
import type { CounterStore } from '../../src/stores/counter-store';
import { DynamoCounterStore } from '../../src/stores/dynamodb/counter-store';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { DynamoStreamStore } from '../../src/stores/dynamodb/stream-store';
import { MemoryStreamStore } from '../../src/stores/memory-stream-store';
import type { StreamStore } from '../../src/stores/stream-store';
import type { ServerFrame } from '../../src/models/server-frames';
import { documentClient, dynamoClient, throttlingProxy, useDynalite } from '../helpers/dynamo';

/** A fresh pair of stores on a clock the test controls. */
interface Subject {
  connections: ConnectionStore;
  requests: RequestStore;
  counters: CounterStore;
  streams: StreamStore;
  advance(ms: number): void;
}

type Factory = () => Promise<Subject>;

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const record = (connectionId: string, nowMs: number, extra: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  connectionId,
  connectedAt: nowMs,
  sourceIp: '192.0.2.1',
  domainName: 'abc.execute-api.us-east-1.amazonaws.com',
  stage: 'prod',
  ttl: Math.floor(nowMs / 1000) + 7800,
  ...extra,
});

/** The one contract every store implementation passes. */
function storeContract(name: string, make: Factory): void {
  describe(`${name} stores`, () => {
    let s: Subject;
    beforeEach(async () => {
      s = await make();
    });

    it('round-trips a connection record with every field', async () => {
      const full = record('Jx3f1dHgIAMCLIg=', T0, { userId: 'user-1', userAgent: 'agent/1' });
      await s.connections.put(full);
      expect(await s.connections.get(full.connectionId)).toEqual(full);
    });

    it('round-trips a record without the optional fields, adding none', async () => {
      const bare = record('a/b+c=', T0);
      await s.connections.put(bare);
      expect(await s.connections.get('a/b+c=')).toEqual(bare);
    });

    it('reads an unknown connection as absent and deletes it without error', async () => {
      expect(await s.connections.get('nobody')).toBeUndefined();
      await expect(s.connections.delete('nobody')).resolves.toBeUndefined();
    });

    it('forgets a deleted connection', async () => {
      await s.connections.put(record('c1', T0));
      await s.connections.delete('c1');
      expect(await s.connections.get('c1')).toBeUndefined();
    });

    it('treats a connection past its ttl as absent though the item may still exist', async () => {
      await s.connections.put(record('c1', T0, { ttl: Math.floor(T0 / 1000) + 60 }));
      s.advance(59_000);
      expect(await s.connections.get('c1')).toBeDefined();
      s.advance(2_000);
      expect(await s.connections.get('c1')).toBeUndefined();
    });

    it('lets one requestId run once per connection, independently per connection', async () => {
      expect(await s.requests.begin('c1', 'r1', 'job-r1', 60)).toBe(true);
      expect(await s.requests.begin('c1', 'r1', 'job-r1', 60)).toBe(false);
      expect(await s.requests.begin('c2', 'r1', 'job-r1', 60)).toBe(true);
    });

    it('lets exactly one of several simultaneous begins win', async () => {
      const results = await Promise.all(Array.from({ length: 5 }, () => s.requests.begin('c1', 'race', 'job-race', 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('tells which job a connection holds under an id, and nothing of another connection', async () => {
      await s.requests.begin('c1', 'r1', 'job-r1', 60, 'k1');
      expect(await s.requests.held('c1', 'r1')).toEqual({ requestId: 'r1', jobId: 'job-r1', streamKey: 'k1' });
      expect(await s.requests.held('c2', 'r1')).toBeUndefined();
      expect(await s.requests.held('c1', 'nope')).toBeUndefined();
    });

    it('leaves nothing behind after end, and the id is free again', async () => {
      await s.requests.begin('c1', 'r1', 'job-r1', 60);
      await s.requests.end('c1', 'r1', 'job-r1');
      expect(await s.requests.held('c1', 'r1')).toBeUndefined();
      expect(await s.requests.begin('c1', 'r1', 'job-r1', 60)).toBe(true);
    });

    it('lists every live record of one connection, and no other', async () => {
      await s.requests.begin('c1', 'r1', 'job-r1', 60, 'k1');
      await s.requests.begin('c1', 'r2', 'job-r2', 60, 'k2');
      await s.requests.begin('c1x', 'r1', 'job-x', 60, 'kx');
      await s.requests.begin('c1', 'old', 'job-old', 10);
      s.advance(11_000);
      const held = await s.requests.heldBy('c1');
      expect(held.map((h) => h.jobId).sort()).toEqual(['job-r1', 'job-r2']);
      expect(await s.requests.heldBy('nobody')).toEqual([]);
    });

    const queued = (key = 'k1', jobId = 'j1') => s.streams.open(key, { requestId: 'r1', jobId, userId: undefined, mode: 'stream', target: 'c1' }, 600);

    it('lets one worker claim a queued job, and reports a redelivery of it as a duplicate', async () => {
      await queued();
      expect(await s.streams.claim('k1', 'j1', T0 + 30_000)).toMatchObject({ outcome: 'claimed', meta: { cancelled: false, target: 'c1', version: 0 } });
      expect(await s.streams.claim('k1', 'j1', T0 + 30_000)).toEqual({ outcome: 'duplicate' });
    });

    it('lets exactly one of several simultaneous claims of one job win', async () => {
      await queued();
      const claims = await Promise.all(Array.from({ length: 5 }, () => s.streams.claim('k1', 'j1', T0 + 30_000)));
      expect(claims.filter((c) => c.outcome === 'claimed')).toHaveLength(1);
      expect(claims.filter((c) => c.outcome === 'duplicate')).toHaveLength(4);
    });

    it('reports a cancel that came while the job was queued to the claiming worker, wherever the stream went', async () => {
      await queued();
      await s.streams.retarget('k1', 'c2', 0);
      expect(await s.streams.cancel('k1')).toMatchObject({ requestId: 'r1', targets: ['c1', 'c2'] });
      expect(await s.streams.claim('k1', 'j1', T0 + 30_000)).toMatchObject({ outcome: 'claimed', meta: { cancelled: true } });
    });

    it('never claims a job whose stream ended, expired, is unknown or belongs to another job', async () => {
      await queued();
      expect(await s.streams.claim('k1', 'job-other', T0 + 30_000)).toEqual({ outcome: 'duplicate' });
      expect(await s.streams.claim('nope', 'j1', T0 + 30_000)).toEqual({ outcome: 'duplicate' });
      await s.streams.end('k1', done, 0, 60);
      expect(await s.streams.claim('k1', 'j1', T0 + 30_000)).toEqual({ outcome: 'duplicate' });
      await queued('k2', 'j2');
      s.advance(601_000);
      expect(await s.streams.claim('k2', 'j2', T0 + 700_000)).toEqual({ outcome: 'duplicate' });
    });

    it('hands a claim whose lease ran out to exactly one redelivery, as interrupted', async () => {
      await queued();
      await s.streams.claim('k1', 'j1', T0 + 10_000);
      s.advance(5_000);
      expect(await s.streams.claim('k1', 'j1', T0 + 40_000)).toEqual({ outcome: 'duplicate' });
      s.advance(6_000);
      const takeovers = await Promise.all([1, 2, 3].map(() => s.streams.claim('k1', 'j1', T0 + 50_000)));
      expect(takeovers.filter((c) => c.outcome === 'interrupted')).toHaveLength(1);
      expect(takeovers.filter((c) => c.outcome === 'duplicate')).toHaveLength(2);
    });

    it('ends only the record of its own job, so a late worker cannot remove a newer request', async () => {
      await s.requests.begin('c1', 'r1', 'job-new', 60);
      await s.requests.end('c1', 'r1', 'job-old');
      expect(await s.requests.held('c1', 'r1')).toBeDefined();
      await s.requests.end('c1', 'r1', 'job-new');
      expect(await s.requests.held('c1', 'r1')).toBeUndefined();
    });

    it('holds a resumed request again whether or not its record survived, never over another job’s, and keeps it from an older resume’s removal', async () => {
      // The record was removed meanwhile (a worker following an older resume): hold writes it again.
      expect(await s.requests.hold('c1', 'r1', 'job-1', 60, 'k1', 2)).toBe(true);
      expect(await s.requests.held('c1', 'r1')).toMatchObject({ jobId: 'job-1', streamKey: 'k1' });
      // Still there: hold refreshes it. Another job under the id: hold refuses.
      expect(await s.requests.hold('c1', 'r1', 'job-1', 60, 'k1', 2)).toBe(true);
      await s.requests.begin('c1', 'r2', 'job-other', 60);
      expect(await s.requests.hold('c1', 'r2', 'job-1', 60, 'k1', 2)).toBe(false);
      // A worker following version 1 (older) leaves it; one following version 3 removes it.
      await s.requests.end('c1', 'r1', 'job-1', 1);
      await s.requests.end('c1', 'r1', 'job-1', 2);
      expect(await s.requests.held('c1', 'r1')).toBeDefined();
      await s.requests.end('c1', 'r1', 'job-1', 3);
      expect(await s.requests.held('c1', 'r1')).toBeUndefined();
      // A record begun (not held at a version) goes at any version; without one, at the request's end.
      await s.requests.begin('c1', 'r3', 'job-3', 60);
      await s.requests.end('c1', 'r3', 'job-3', 1);
      expect(await s.requests.held('c1', 'r3')).toBeUndefined();
    });

    it('adds to a counter up to its limit and no further', async () => {
      const expires = T0 / 1000 + 60;
      expect(await s.counters.tryAdd('k', 1, 2, expires)).toEqual({ ok: true, value: 1 });
      expect(await s.counters.tryAdd('k', 1, 2, expires)).toEqual({ ok: true, value: 2 });
      expect(await s.counters.tryAdd('k', 1, 2, expires)).toEqual({ ok: false, value: 2 });
      await s.counters.release('k', 1);
      expect(await s.counters.tryAdd('k', 1, 2, expires)).toEqual({ ok: true, value: 2 });
    });

    it('admits exactly `limit` of many simultaneous adds', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => s.counters.tryAdd('burst', 1, 3, T0 / 1000 + 60)));
      expect(results.filter((r) => r.ok)).toHaveLength(3);
    });

    it('counts an expired counter as 0, so a crashed holder’s slot comes back', async () => {
      await s.counters.tryAdd('slot', 1, 1, T0 / 1000 + 10);
      expect((await s.counters.tryAdd('slot', 1, 1, T0 / 1000 + 10)).ok).toBe(false);
      s.advance(11_000);
      expect(await s.counters.tryAdd('slot', 1, 1, T0 / 1000 + 100)).toEqual({ ok: true, value: 1 });
    });

    it('never releases below zero', async () => {
      await s.counters.release('never-taken', 1);
      await s.counters.tryAdd('z', 1, 5, T0 / 1000 + 60);
      await s.counters.release('z', 1);
      await s.counters.release('z', 1);
      expect(await s.counters.tryAdd('z', 1, 1, T0 / 1000 + 60)).toEqual({ ok: true, value: 1 });
    });

    it('refuses an amount above the limit even on a counter that does not exist yet', async () => {
      expect((await s.counters.tryAdd('fresh', 5000, 1000, T0 / 1000 + 60)).ok).toBe(false);
      expect(await s.counters.tryAdd('fresh', 1000, 1000, T0 / 1000 + 60)).toEqual({ ok: true, value: 1000 });
    });

    it('holds at most `limit` slots under a key, and gives one back on release', async () => {
      const exp = T0 / 1000 + 60;
      expect((await s.counters.acquireSlot('slots', 'a', 2, exp)).taken).toBe(true);
      expect((await s.counters.acquireSlot('slots', 'b', 2, exp)).taken).toBe(true);
      expect((await s.counters.acquireSlot('slots', 'c', 2, exp)).taken).toBe(false);
      expect((await s.counters.acquireSlot('slots', 'a', 2, exp)).taken).toBe(true);
      await s.counters.releaseSlot('slots', 'a');
      await s.counters.releaseSlot('slots', 'a');
      await s.counters.releaseSlot('never', 'x');
      expect((await s.counters.acquireSlot('slots', 'c', 2, exp)).taken).toBe(true);
      expect((await s.counters.acquireSlot('slots', 'd', 2, exp)).taken).toBe(false);
    });

    it('adds to several values of one counter all or none, naming the first that would pass its limit', async () => {
      const exp = T0 / 1000 + 60;
      const both = (tokens: number) => [
        { field: 'r', amount: 1, limit: 3 },
        { field: 't', amount: tokens, limit: 1000 },
      ];
      expect(await s.counters.tryAddEach('win', both(600), exp)).toEqual({ ok: true });
      // Tokens would pass: nothing is added, not even the request.
      expect(await s.counters.tryAddEach('win', both(500), exp)).toMatchObject({ ok: false, refused: 't' });
      expect(await s.counters.tryAddEach('win', both(400), exp)).toEqual({ ok: true });
      expect(await s.counters.tryAddEach('win', both(0), exp)).toEqual({ ok: true });
      // Requests are at 3: refused by `r` first, whatever the tokens.
      expect(await s.counters.tryAddEach('win', both(5000), exp)).toMatchObject({ ok: false, refused: 'r' });
      expect(await s.counters.tryAddEach('win', both(1), exp)).toMatchObject({ ok: false, refused: 'r' });
      // An amount above its limit never fits, not even on a counter that does not exist yet.
      expect(await s.counters.tryAddEach('fresh', both(5000), exp)).toMatchObject({ ok: false, refused: 't' });
      await s.counters.release('win', 1, 'r');
      await s.counters.release('win', 700, 't');
      expect(await s.counters.tryAddEach('win', both(700), exp)).toEqual({ ok: true });
      // An expired counter starts again from these amounts.
      s.advance(61_000);
      expect(await s.counters.tryAddEach('win', both(1000), T0 / 1000 + 180)).toEqual({ ok: true });
    });

    it('marks a pending add until it is confirmed or taken back, and shows the marks and values with a refusal', async () => {
      const exp = T0 / 1000 + 60;
      const adds = (tokens: number) => [
        { field: 'r', amount: 1, limit: 10 },
        { field: 't', amount: tokens, limit: 1000 },
      ];
      expect(await s.counters.tryAddEach('pw', adds(600), exp, { id: 'a', since: T0 })).toEqual({ ok: true });
      expect(await s.counters.tryAddEach('pw', adds(300), exp, { id: 'b', since: T0 + 1 })).toEqual({ ok: true });
      expect(await s.counters.pendingAdds('pw')).toEqual(expect.arrayContaining([{ id: 'a', since: T0, amounts: { r: 1, t: 600 } }, { id: 'b', since: T0 + 1, amounts: { r: 1, t: 300 } }]));
      const refused = await s.counters.tryAddEach('pw', adds(200), exp, { id: 'c', since: T0 + 2 });
      expect(refused).toMatchObject({ ok: false, refused: 't', values: { r: 2, t: 900 } });
      expect(refused.ok ? [] : refused.pending).toHaveLength(2);
      await s.counters.confirmAdd('pw', 'a');
      await s.counters.takeBack('pw', [{ field: 'r', amount: 1 }, { field: 't', amount: 300 }], 'b');
      // A second take-back of the same add takes nothing.
      await s.counters.takeBack('pw', [{ field: 'r', amount: 1 }, { field: 't', amount: 300 }], 'b');
      await s.counters.confirmAdd('pw', 'never');
      expect(await s.counters.pendingAdds('pw')).toEqual([]);
      expect(await s.counters.tryAddEach('pw', adds(400), exp)).toEqual({ ok: true });
      expect(await s.counters.tryAddEach('pw', adds(1), exp)).toMatchObject({ ok: false, refused: 't', values: { r: 2, t: 1000 }, pending: [] });
    });

    it('never lets parallel adds to one counter pass a limit together', async () => {
      const exp = T0 / 1000 + 60;
      const results = await Promise.all(Array.from({ length: 12 }, () => s.counters.tryAddEach('race', [{ field: 'r', amount: 1, limit: 5 }, { field: 't', amount: 100, limit: 10_000 }], exp)));
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.refused === 'r')).toBe(true);
    });

    it('opens an empty slot set that takes slots like any other, and never empties one in use', async () => {
      const exp = T0 / 1000 + 60;
      await s.counters.openSlots('opened', exp);
      expect((await s.counters.acquireSlot('opened', 'a', 2, exp)).taken).toBe(true);
      await s.counters.openSlots('opened', exp);
      expect((await s.counters.acquireSlot('opened', 'b', 2, exp)).taken).toBe(true);
      expect((await s.counters.acquireSlot('opened', 'c', 2, exp)).taken).toBe(false);
    });

    it('expires each slot on its own, however busy its key stays', async () => {
      const t0 = T0 / 1000;
      expect((await s.counters.acquireSlot('busy', 'leaked', 2, t0 + 60)).taken).toBe(true);
      // The key stays in use: slots come and go every 10 s, but none extends the leaked one.
      for (let i = 0; i < 5; i += 1) {
        s.advance(10_000);
        expect((await s.counters.acquireSlot('busy', `s${i}`, 2, t0 + 10 * (i + 1) + 60)).taken).toBe(true);
        expect((await s.counters.acquireSlot('busy', `extra${i}`, 2, t0 + 10 * (i + 1) + 60)).taken).toBe(false);
        await s.counters.releaseSlot('busy', `s${i}`);
      }
      s.advance(11_000);
      expect((await s.counters.acquireSlot('busy', 'x', 2, t0 + 200)).taken).toBe(true);
      expect((await s.counters.acquireSlot('busy', 'y', 2, t0 + 200)).taken).toBe(true);
      expect((await s.counters.acquireSlot('busy', 'z', 2, t0 + 200)).taken).toBe(false);
    });

    it('grants exactly `limit` of many simultaneous slot requests', async () => {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => s.counters.acquireSlot('race', `h${i}`, 3, T0 / 1000 + 60)));
      expect(results.filter((r) => r.taken)).toHaveLength(3);
    });

    it('grants exactly the free slots to simultaneous requests while expired slots are pruned', async () => {
      const t0 = T0 / 1000;
      for (const id of ['old1', 'old2', 'old3']) await s.counters.acquireSlot('prune', id, 3, t0 + 10);
      s.advance(11_000);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.counters.acquireSlot('prune', `n${i}`, 3, t0 + 100)));
      expect(results.filter((r) => r.taken)).toHaveLength(3);
    });

    it('marks a slot taken as pending until it is confirmed, and tells every taker the other pending holders', async () => {
      const exp = T0 / 1000 + 60;
      expect(await s.counters.acquireSlot('pend', 'a', 2, exp, T0)).toEqual({ taken: true, pending: [] });
      // The full set's answer names `a` as pending: an admission in flight that may give it back.
      expect(await s.counters.acquireSlot('pend', 'b', 2, exp)).toEqual({ taken: true, pending: [{ id: 'a', since: T0 }] });
      expect(await s.counters.acquireSlot('pend', 'c', 2, exp, T0 + 5)).toEqual({ taken: false, pending: [{ id: 'a', since: T0 }] });
      expect(await s.counters.slotHolders('pend')).toEqual({ held: expect.arrayContaining(['a', 'b']) as unknown, pending: [{ id: 'a', since: T0 }] });
      await s.counters.confirmSlot('pend', 'a');
      await s.counters.confirmSlot('pend', 'never');
      expect(await s.counters.acquireSlot('pend', 'c', 2, exp, T0 + 5)).toEqual({ taken: false, pending: [] });
      expect((await s.counters.slotHolders('pend')).pending).toEqual([]);
      // A pending slot given back goes from both: held and pending.
      await s.counters.releaseSlot('pend', 'b');
      expect((await s.counters.acquireSlot('pend', 'd', 2, exp, T0 + 9)).taken).toBe(true);
      await s.counters.releaseSlot('pend', 'd');
      expect(await s.counters.slotHolders('pend')).toEqual({ held: ['a'], pending: [] });
    });

    it('forgets the pending mark of a slot that expired, and keeps the marks through the pruning of a full set', async () => {
      const t0 = T0 / 1000;
      await s.counters.acquireSlot('marks', 'old', 2, t0 + 10, T0);
      await s.counters.acquireSlot('marks', 'live', 2, t0 + 100, T0 + 1);
      s.advance(11_000);
      // The set is full until `old` is pruned; the new slot's answer still names `live` as pending.
      expect(await s.counters.acquireSlot('marks', 'new', 2, t0 + 100, T0 + 11_000)).toEqual({ taken: true, pending: [{ id: 'live', since: T0 + 1 }] });
      expect((await s.counters.slotHolders('marks')).pending).toEqual(expect.arrayContaining([{ id: 'live', since: T0 + 1 }, { id: 'new', since: T0 + 11_000 }]));
      expect((await s.counters.slotHolders('marks')).pending).toHaveLength(2);
    });

    const chunk = (seq: number): ServerFrame => ({ type: 'chunk', requestId: 'r1', seq, content: `c${seq}` });
    const done: ServerFrame = { type: 'done', requestId: 'r1', seq: 3, modelId: 'm', stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { timeToFirstTokenMs: 1, totalMs: 2 } };
    const openStream = (key = 'k1') => s.streams.open(key, { requestId: 'r1', jobId: 'j1', userId: 'u1', mode: 'stream', target: 'c1' }, 600);

    it('opens a stream aimed at its connection, and reads an unknown one as absent', async () => {
      await openStream();
      expect(await s.streams.get('k1')).toEqual({ requestId: 'r1', jobId: 'j1', userId: 'u1', mode: 'stream', target: 'c1', targets: ['c1'], version: 0, fromSeq: 0, cancelled: false, terminal: undefined });
      expect(await s.streams.get('nope')).toBeUndefined();
    });

    it('moves a live stream to another connection, bumping its version, and reports an unknown one', async () => {
      await openStream();
      const moved = await s.streams.retarget('k1', 'c2', 5);
      expect(moved).toMatchObject({ outcome: 'moved', meta: { target: 'c2', targets: ['c1', 'c2'], version: 1, fromSeq: 5 } });
      expect(await s.streams.retarget('nope', 'c2', 0)).toEqual({ outcome: 'unknown' });
    });

    it('logs every resume in targets, a connection resumed onto twice included: version v went to targets[v]', async () => {
      await openStream();
      await s.streams.retarget('k1', 'c2', 0);
      await s.streams.retarget('k1', 'c1', 3);
      expect(await s.streams.get('k1')).toMatchObject({ target: 'c1', targets: ['c1', 'c2', 'c1'], version: 2, fromSeq: 3 });
    });

    it('logs frames and replays them in order from an index, whatever the order they were written in', async () => {
      await openStream();
      await Promise.all([2, 0, 1].map((seq) => s.streams.append('k1', [{ index: seq, frame: chunk(seq) }], 600)));
      expect(await s.streams.replay('k1', 0)).toEqual([chunk(0), chunk(1), chunk(2)]);
      expect(await s.streams.replay('k1', 2)).toEqual([chunk(2)]);
      expect(await s.streams.replay('k1', 3)).toEqual([]);
    });

    it('logs checkpoints of several frames and replays from inside one', async () => {
      await openStream();
      const frames = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ index: from + i, frame: chunk(from + i) }));
      await s.streams.append('k1', frames(0, 4), 600);
      await s.streams.append('k1', frames(4, 7), 600);
      await s.streams.append('k1', [], 600);
      expect(await s.streams.replay('k1', 0)).toEqual(frames(0, 7).map((f) => f.frame));
      expect(await s.streams.replay('k1', 2)).toEqual(frames(2, 7).map((f) => f.frame));
      expect(await s.streams.replay('k1', 5)).toEqual(frames(5, 7).map((f) => f.frame));
      expect(await s.streams.replay('k1', 7)).toEqual([]);
    });

    it('ends a stream only at the version its writer knows, then keeps it for the retention and moves it no more', async () => {
      await openStream();
      await s.streams.retarget('k1', 'c2', 0);
      expect(await s.streams.end('k1', done, 0, 60)).toBe(false);
      expect(await s.streams.end('k1', done, 1, 60)).toBe(true);
      expect((await s.streams.get('k1'))?.terminal).toEqual(done);
      expect(await s.streams.retarget('k1', 'c3', 0)).toMatchObject({ outcome: 'ended', meta: { terminal: done, target: 'c2' } });
      s.advance(61_000);
      expect(await s.streams.get('k1')).toBeUndefined();
    });

    it('cancels a live stream, not an ended one, and never creates one', async () => {
      await openStream('live');
      await openStream('over');
      await s.streams.end('over', done, 0, 60);
      await Promise.all([s.streams.cancel('live'), s.streams.cancel('over'), s.streams.cancel('never')]);
      expect((await s.streams.get('live'))?.cancelled).toBe(true);
      expect((await s.streams.get('over'))?.cancelled).toBe(false);
      expect(await s.streams.get('never')).toBeUndefined();
    });

    it('cancels for a connection only while the stream goes to it', async () => {
      await openStream();
      expect(await s.streams.cancel('k1', 'c2')).toBeUndefined();
      await s.streams.retarget('k1', 'c2', 0);
      expect(await s.streams.cancel('k1', 'c1')).toBeUndefined();
      expect((await s.streams.get('k1'))?.cancelled).toBe(false);
      expect(await s.streams.cancel('k1', 'c2')).toMatchObject({ target: 'c2', cancelled: false });
      expect((await s.streams.get('k1'))?.cancelled).toBe(true);
    });

    it('treats an expired request record as absent', async () => {
      await s.requests.begin('c1', 'r1', 'job-r1', 60);
      s.advance(61_000);
      expect(await s.requests.held('c1', 'r1')).toBeUndefined();
      expect(await s.requests.begin('c1', 'r1', 'job-r1', 60)).toBe(true);
    });
  });
}

storeContract('memory', () => {
  let now = T0;
  return Promise.resolve({
    connections: new MemoryConnectionStore(() => now),
    requests: new MemoryRequestStore(() => now),
    counters: new MemoryCounterStore(() => now),
    streams: new MemoryStreamStore(() => now),
    advance: (ms) => void (now += ms),
  });
});

describe('on dynalite, through the real SDK', () => {
  const dynalite = useDynalite();
  let tables = 0;

  storeContract('DynamoDB', async () => {
    const table = `contract-${(tables += 1)}`;
    expect(await ensureTable(dynalite.client, table)).toBe('created');
    expect(await ensureTable(dynalite.client, table)).toBe('exists');
    let now = T0;
    const clock = () => now;
    const db = documentClient(dynalite.client);
    return {
      connections: new DynamoConnectionStore(db, table, clock),
      requests: new DynamoRequestStore(db, table, clock),
      counters: new DynamoCounterStore(db, table, clock),
      streams: new DynamoStreamStore(db, table, clock),
      advance: (ms) => void (now += ms),
    };
  });

  it('stores a log checkpoint compressed, and still replays items of one frame each written by the previous version', async () => {
    await ensureTable(dynalite.client, 'log');
    const db = documentClient(dynalite.client);
    const streams = new DynamoStreamStore(db, 'log');
    const text = (seq: number) => ({ type: 'chunk' as const, requestId: 'r1', seq, content: `The quick brown fox jumps over the lazy dog, sentence ${seq}. ` });
    // Frames 0–1 as the previous version logged them: one item each, the frame as JSON text.
    for (const seq of [0, 1]) await db.send(new PutCommand({ TableName: 'log', Item: { ...KEYS.streamLog('k', seq), frame: JSON.stringify(text(seq)), ttl: Math.floor(Date.now() / 1000) + 600 } }));
    const frames = Array.from({ length: 30 }, (_, i) => ({ index: i + 2, frame: text(i + 2) }));
    await streams.append('k', frames, 600);
    expect(await streams.replay('k', 0)).toEqual([text(0), text(1), ...frames.map((f) => f.frame)]);
    const { Item } = await db.send(new GetCommand({ TableName: 'log', Key: KEYS.streamLog('k', 2) }));
    expect(Item?.['frames']).toBeInstanceOf(Uint8Array);
    expect((Item?.['frames'] as Uint8Array).length).toBeLessThan(JSON.stringify(frames).length / 3);
  });

  it('rides out DynamoDB throttling through the SDK’s retries', async () => {
    await ensureTable(dynalite.client, 'throttled');
    const proxy = await throttlingProxy(dynalite.endpoint, 2);
    const throttled = dynamoClient(proxy.endpoint, 4);
    try {
      const store = new DynamoConnectionStore(documentClient(throttled), 'throttled');
      await store.put(record('c1', Date.now()));
      expect(proxy.seen()).toBe(3);
      expect(await store.get('c1')).toMatchObject({ connectionId: 'c1' });
    } finally {
      throttled.destroy();
      await proxy.stop();
    }
  });
});
