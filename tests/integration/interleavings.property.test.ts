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
  | { readonly kind: 'cancel'; readonly conn: number; readonly id: number }
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

const isLastPart = (f: Frame): boolean => f.type === 'response' && f.part === f.parts - 1;

/**
 * Reads the frames of one request id on one connection as the protocol allows them: `accepted`,
 * then chunks or response parts, then one terminal frame; or a lone `error` refusing a new
 * request. Returns how many request frames these answer, and whether one is still open.
 */
function answersOf(frames: Frame[]): { answered: number; open: boolean } {
  let running = false;
  let answered = 0;
  for (const f of frames) {
    if (!running) {
      expect(['accepted', 'error']).toContain(f.type);
      answered += 1;
      running = f.type === 'accepted';
    } else if (f.type === 'done' || f.type === 'error' || isLastPart(f)) {
      running = false;
    } else {
      expect(f.type === 'chunk' || f.type === 'response').toBe(true);
    }
  }
  return { answered, open: running };
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

  it('answers every request frame exactly once and leaves nothing behind', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 24 }), async (commands) => {
        admitted = new Map();
        const local: LocalGateway = await startLocal({
          MOCK_TOKEN_DELAY_MS: '3',
          MOCK_ANSWER_TOKENS: '12',
          MAX_CONCURRENT_PER_CONNECTION: '2',
          MAX_CONCURRENT_PER_USER: '4',
          CANCEL_CHECK_INTERVAL_MS: '15',
          // Drops stop their answers at once here; resumes have their own property test.
          RESUME_GRACE_SECONDS: '0',
        });
        const sessions: Array<{ client: TestClient; sent: Map<string, number>; dropped: boolean }> = [];
        const current: number[] = [];
        const open = async (slot: number): Promise<void> => {
          current[slot] = sessions.push({ client: await TestClient.connect(local.url), sent: new Map(), dropped: false }) - 1;
        };
        try {
          for (let slot = 0; slot < CONNECTIONS; slot += 1) await open(slot);
          for (const c of commands) {
            if (c.kind === 'pause') {
              await sleep(c.ms);
              continue;
            }
            const session = sessions[current[c.conn]!]!;
            const requestId = `r${'id' in c ? c.id : 0}`;
            if (c.kind === 'drop') {
              session.dropped = true;
              session.client.socket.terminate();
              await open(c.conn);
            } else if (c.kind === 'cancel') {
              session.client.send({ action: 'llm/cancel', requestId });
            } else {
              session.sent.set(requestId, (session.sent.get(requestId) ?? 0) + 1);
              session.client.send({ action: c.kind === 'chat' ? 'llm/chat' : 'llm/stream', requestId, data: { messages: [{ role: 'user', content: `q ${c.id}` }] } });
            }
          }
          const live = sessions.filter((s) => !s.dropped);
          const settled = (s: (typeof sessions)[number]): boolean =>
            [...s.sent].every(([rid, count]) => {
              const ofId = s.client.frames.filter((f) => f.requestId === rid);
              const refused = s.client.frames.filter((f) => f.refusedRequestId === rid).length;
              const { answered, open: stillOpen } = answersOf(ofId);
              return !stillOpen && answered + refused >= count;
            });
          await until(() => live.every(settled), 'every request on the open connections to end', 10_000);
          for (const s of live) {
            for (const [rid, count] of s.sent) {
              const { answered } = answersOf(s.client.frames.filter((f) => f.requestId === rid));
              const refused = s.client.frames.filter((f) => f.refusedRequestId === rid).length;
              expect(answered + refused).toBe(count);
            }
          }
          for (const s of sessions.filter((x) => x.dropped)) {
            for (const rid of s.sent.keys()) answersOf(s.client.frames.filter((f) => f.requestId === rid));
          }
          for (const s of sessions) {
            for (const f of s.client.frames) seen.add(f.type === 'error' ? `${f.code}${f.refusedRequestId ? ' (refused)' : ''}` : String(f.type));
          }
          await Promise.all(live.map((s) => s.client.close()));
          const requests = local.gateway.deps.requests as MemoryRequestStore;
          const counters = local.gateway.deps.counters as MemoryCounterStore;
          await until(
            () => requests.size === 0 && counters.total('conc:') === 0 && local.queue.depth.messages === 0 && local.queue.depth.invocations === 0,
            'no request record, slot or queued job left',
            10_000,
          );
          expect([...admitted.values()].every((times) => times === 1)).toBe(true);
        } finally {
          await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
          await local.stop();
        }
      }),
      { numRuns: 25, endOnFailure: true },
    );
    // The runs reach every outcome: answers of both kinds, cancels, limits and duplicate ids.
    expect([...seen]).toEqual(expect.arrayContaining(['done', 'response', 'cancelled', 'rate_limited', 'invalid_request (refused)']));
  }, 120_000);
});
