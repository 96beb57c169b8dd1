import fc from 'fast-check';
import type { LocalGateway } from '../../src/local/emulator';
import { RateLimiter, type AdmissionTicket } from '../../src/services/rate-limit';
import type { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import type { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { startLocal } from '../helpers/local';
import { sleep, TestClient, until, type Frame } from '../helpers/ws-client';

/**
 * Random interleavings of streams, chats, cancels, reused requestIds and disconnects on a few
 * connections, through the emulator (route and worker as separate instances, as in AWS). For
 * every connection still open at the end, every request frame it sent is answered exactly once
 * — accepted and then one terminal frame, or one refusal — and afterwards nothing is left: no
 * request record, no slot, no unsettled admission, no queued job.
 */

type Command =
  | { readonly kind: 'stream' | 'chat'; readonly conn: number; readonly id: number }
  | { readonly kind: 'cancel' | 'resume'; readonly conn: number; readonly id: number }
  | { readonly kind: 'drop'; readonly conn: number }
  | { readonly kind: 'pause'; readonly ms: number };

const CONNECTIONS = 3;
const conn = fc.nat({ max: CONNECTIONS - 1 });
const id = fc.nat({ max: 3 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constantFrom('stream' as const, 'chat' as const), conn, id }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), conn, id }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const), conn }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.nat({ max: 40 }) }), weight: 2 },
);
const withResumes: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: command, weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('resume' as const), conn, id }), weight: 4 },
);

const isLastPart = (f: Frame): boolean => f.type === 'response' && f.part === f.parts - 1;

const isTerminal = (f: Frame): boolean => f.type === 'done' || f.type === 'error' || isLastPart(f);

/**
 * How many of the request and resume frames a connection sent for one id it has answered: one
 * terminal frame each (`done`, the last `response` part, an `error` ending it), or a refusal
 * naming the id as `refusedRequestId`. Chunks and parts come between an answer's start and its
 * terminal frame; a client that reuses an id before it saw the previous request end may see
 * the two interleaved, so what is counted is terminals, not nesting.
 */
function answersOf(frames: Frame[], rid: string): number {
  const ofId = frames.filter((f) => f.requestId === rid);
  for (const f of ofId) expect(['accepted', 'resumed', 'chunk', 'response', 'done', 'error']).toContain(f.type);
  return ofId.filter(isTerminal).length + frames.filter((f) => f.refusedRequestId === rid).length;
}

describe('random interleavings on a few connections (fast-check)', () => {
  let admitted: Map<string, number>;
  let admit: jest.SpyInstance;
  let settle: jest.SpyInstance;

  beforeAll(() => {
    const realAdmit = RateLimiter.prototype.admit;
    const realSettle = RateLimiter.prototype.settle;
    admit = jest.spyOn(RateLimiter.prototype, 'admit').mockImplementation(async function (this: RateLimiter, ...args) {
      const ticket = await realAdmit.apply(this, args);
      admitted.set(ticket.slotId, 0);
      return ticket;
    });
    settle = jest.spyOn(RateLimiter.prototype, 'settle').mockImplementation(function (this: RateLimiter, ticket: AdmissionTicket, used: number) {
      const settled = admitted.get(ticket.slotId);
      if (settled !== undefined) admitted.set(ticket.slotId, settled + 1);
      return realSettle.call(this, ticket, used);
    });
  });
  afterAll(() => {
    admit.mockRestore();
    settle.mockRestore();
  });

  let resumes = 0;

  /** One random run: the commands on three connections, then the invariants. */
  async function run(commands: Command[], graceSeconds: number, seen: Set<string>): Promise<void> {
    admitted = new Map();
    const local: LocalGateway = await startLocal({
      MOCK_TOKEN_DELAY_MS: '3',
      MOCK_ANSWER_TOKENS: graceSeconds > 0 ? '40' : '12',
      MAX_CONCURRENT_PER_CONNECTION: '2',
      MAX_CONCURRENT_PER_USER: '4',
      CANCEL_CHECK_INTERVAL_MS: '15',
      RESUME_GRACE_SECONDS: String(graceSeconds),
    });
    const sessions: Array<{ client: TestClient; sent: Map<string, number>; dropped: boolean }> = [];
    const current: number[] = [];
    /** Where each request id was last sent or resumed to. */
    const holder = new Map<string, number>();
    const open = async (slot: number): Promise<void> => {
      current[slot] = sessions.push({ client: await TestClient.connect(local.url), sent: new Map(), dropped: false }) - 1;
    };
    const expectAnswer = (index: number, requestId: string): void => {
      const session = sessions[index]!;
      session.sent.set(requestId, (session.sent.get(requestId) ?? 0) + 1);
      holder.set(requestId, index);
    };
    try {
      for (let slot = 0; slot < CONNECTIONS; slot += 1) await open(slot);
      for (const c of commands) {
        if (c.kind === 'pause') {
          await sleep(c.ms);
          continue;
        }
        const index = current[c.conn]!;
        const session = sessions[index]!;
        const requestId = `r${'id' in c ? c.id : 0}`;
        if (c.kind === 'drop') {
          session.dropped = true;
          session.client.socket.terminate();
          await open(c.conn);
        } else if (c.kind === 'cancel') {
          session.client.send({ action: 'llm/cancel', requestId });
        } else if (c.kind === 'resume') {
          const from = holder.get(requestId);
          const accepted = (f: Frame): boolean => f.type === 'accepted' && f.requestId === requestId;
          // The request's `accepted` may still be on its way: a client resumes what it was told about.
          if (from !== undefined) await sessions[from]!.client.waitFor((frames) => frames.some(accepted), 300).catch(() => undefined);
          const token = from === undefined ? undefined : sessions[from]!.client.frames.filter(accepted).at(-1)?.resumeToken;
          // A resume moves a request to another connection (resuming where it already is replays it there).
          if (token === undefined || from === index) continue;
          expectAnswer(index, requestId);
          resumes += 1;
          session.client.send({ action: 'llm/resume', requestId, data: { resumeToken: token, fromSeq: 0 } });
        } else {
          expectAnswer(index, requestId);
          session.client.send({ action: c.kind === 'chat' ? 'llm/chat' : 'llm/stream', requestId, data: { messages: [{ role: 'user', content: `q ${c.id}` }] } });
        }
      }
      const live = sessions.filter((s) => !s.dropped);
      const settled = (s: (typeof sessions)[number]): boolean => [...s.sent].every(([rid, count]) => answersOf(s.client.frames, rid) >= count);
      await until(() => live.every(settled), 'every request on the open connections to end', 10_000 + graceSeconds * 1000);
      await local.idle();
      // Exactly one answer each: nothing arrives after the last terminal frame.
      for (const s of live) for (const [rid, count] of s.sent) expect({ rid, answered: answersOf(s.client.frames, rid) }).toEqual({ rid, answered: count });
      for (const s of sessions.filter((x) => x.dropped)) for (const rid of s.sent.keys()) expect(answersOf(s.client.frames, rid)).toBeLessThanOrEqual(s.sent.get(rid) ?? 0);
      for (const s of sessions) {
        for (const f of s.client.frames) seen.add(f.type === 'error' ? `${f.code}${f.refusedRequestId ? ' (refused)' : ''}` : String(f.type));
      }
      await Promise.all(live.map((s) => s.client.close()));
      const requests = local.gateway.deps.requests as MemoryRequestStore;
      const counters = local.gateway.deps.counters as MemoryCounterStore;
      await until(
        () => requests.size === 0 && counters.total('conc:') === 0 && local.queue.depth.messages === 0 && local.queue.depth.invocations === 0,
        'no request record, slot or queued job left',
        10_000 + graceSeconds * 1000,
      );
      expect([...admitted.values()].every((times) => times === 1)).toBe(true);
    } finally {
      await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
      await local.stop();
    }
  }

  it('answers every request frame exactly once and leaves nothing behind', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 24 }), (commands) => run(commands, 0, seen)),
      { numRuns: 25 },
    );
    // The runs reach every outcome: answers of both kinds, cancels, limits and duplicate ids.
    expect([...seen]).toEqual(expect.arrayContaining(['done', 'response', 'cancelled', 'rate_limited', 'invalid_request (refused)']));
  }, 120_000);

  it('with resumes: every request and resume frame answered exactly once, every admission settled once, nothing left', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(withResumes, { minLength: 4, maxLength: 20 }), (commands) => run(commands, 1, seen)),
      { numRuns: 15 },
    );
    // The runs really resumed (resumed_elsewhere and replays have deterministic tests in resumable.test.ts).
    expect(resumes).toBeGreaterThan(0);
    expect([...seen]).toEqual(expect.arrayContaining(['done', 'chunk']));
  }, 240_000);
});
