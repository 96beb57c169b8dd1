import type { ChatModel } from '../../src/llm/chat-model';
import { mockAnswerTokens, MockChatModel } from '../../src/llm/mock';
import type { LocalGateway } from '../../src/local/emulator';
import type { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from '../helpers/jwt';
import { connectTracked, startLocal } from '../helpers/local';
import { seededRandom } from '../helpers/seed';
import { STORE_MODES } from '../helpers/store-modes';
import { TestClient, until, type Frame } from '../helpers/ws-client';

/**
 * Resumable answers through the emulator (route and worker as separate instances): a dropped
 * connection loses nothing — the client resumes on a new connection from the last chunk it saw,
 * and the joined text is the uninterrupted answer, once, from one model call.
 */

const PROMPT = 'tell me a long story';
const TOKENS = 2000;

/** A model that counts its calls and the calls that were aborted. */
function countingModel(inner: ChatModel): ChatModel & { calls: number; aborted: number } {
  const model = {
    calls: 0,
    aborted: 0,
    async *stream(request: Parameters<ChatModel['stream']>[0], signal: AbortSignal) {
      model.calls += 1;
      try {
        yield* inner.stream(request, signal);
      } finally {
        if (signal.aborted) model.aborted += 1;
      }
    },
  };
  return model;
}

const ask = (requestId: string, action = 'llm/stream') => ({ action, requestId, data: { messages: [{ role: 'user', content: PROMPT }] } });
const resume = (requestId: string, resumeToken: string, fromSeq: number) => ({ action: 'llm/resume', requestId, data: { resumeToken, fromSeq } });
const isTerminal = (f: Frame): boolean => f.type === 'done' || f.type === 'error' || (f.type === 'response' && f.part === f.parts - 1);

type Drop = 'close' | 'delete' | 'reset';

async function drop(local: LocalGateway, session: { client: TestClient; connectionId: string }, how: Drop): Promise<void> {
  if (how === 'close') await session.client.close();
  if (how === 'reset') session.client.socket.terminate();
  if (how === 'delete') {
    const response = await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(session.connectionId)}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
  }
  await session.client.closed;
}

describe.each(STORE_MODES)('resumable answers, %s mode', (_name, makeMode) => {
  const mode = makeMode();
  afterAll(() => mode.stop());

  it('joins an answer dropped at five random points (close, @connections DELETE, reset) into the uninterrupted one, once, from one model call', async () => {
    const model = countingModel(new MockChatModel({ tokenDelayMs: 1, answerTokens: TOKENS }));
    const local = await mode.start({ CANCEL_CHECK_INTERVAL_MS: '20', STREAM_FLUSH_INTERVAL_MS: '10' }, model);
    try {
      const expected = mockAnswerTokens(PROMPT, TOKENS).join('');
      let session = await connectTracked(local);
      session.client.send(ask('long'));
      const accepted = (await session.client.waitFor((f) => f.some((x) => x.type === 'accepted')))[0]!;
      const token = String(accepted.resumeToken);
      const chunks: string[] = [];
      const terminals: Frame[] = [];
      const take = (frames: Frame[]): void => {
        for (const frame of frames.filter((f) => f.requestId === 'long')) {
          if (frame.type === 'chunk') {
            // Contiguous across connections: never a gap, never a chunk twice.
            expect(frame.seq).toBe(chunks.length);
            chunks.push(String(frame.content));
          } else if (isTerminal(frame)) terminals.push(frame);
        }
      };
      const methods: Drop[] = ['close', 'delete', 'reset', 'close', 'reset'];
      // Five points spread over the answer (about 200 chunks at this pace), each a little random.
      const random = seededRandom('resume drop points');
      const points = methods.map((_, i) => 10 + i * 30 + Math.floor(random() * 20));
      for (const [i, how] of methods.entries()) {
        const before = chunks.length;
        await session.client.waitFor((f) => f.filter((x) => x.type === 'chunk').length + before >= points[i]!, 10_000, `chunk ${points[i]}`);
        await drop(local, session, how);
        take(session.client.frames.filter((f) => f.type !== 'accepted'));
        session = await connectTracked(local);
        session.client.send(resume('long', token, chunks.length));
      }
      await session.client.waitFor((f) => f.some((x) => x.requestId === 'long' && isTerminal(x)), 20_000, 'the end');
      take(session.client.frames);
      await session.client.close();
      expect(terminals.map((f) => f.type)).toEqual(['done']);
      expect(terminals[0]!.seq).toBe(chunks.length);
      expect(chunks.join('')).toBe(expected);
      expect(model.calls).toBe(1);
    } finally {
      await local.stop();
    }
  }, 60_000);

  it('replays an answer that ended while its client was away, from fromSeq, with its done, within the retention', async () => {
    const local = await mode.start({ MOCK_ANSWER_TOKENS: '30' });
    try {
      const first = await TestClient.connect(local.url);
      first.send(ask('ended'));
      const end = await first.terminal('ended');
      const token = String(first.frames.find((f) => f.type === 'accepted')!.resumeToken);
      const chunks = first.of('ended').filter((f) => f.type === 'chunk');
      await first.close();
      const again = await TestClient.connect(local.url);
      again.send(resume('ended', token, 3));
      await again.waitFor((f) => f.some(isTerminal));
      expect(again.frames).toEqual([{ type: 'resumed', requestId: 'ended', fromSeq: 3 }, ...chunks.slice(3), end]);
      await again.close();
    } finally {
      await local.stop();
    }
  });

  it('answers resume_unavailable, and nothing else, for a wrong token, an unknown request and an expired one', async () => {
    const local = await mode.start({ MOCK_ANSWER_TOKENS: '5', RESUME_RETENTION_SECONDS: '0' });
    try {
      const client = await TestClient.connect(local.url);
      client.send(ask('gone-soon'));
      await client.terminal('gone-soon');
      const token = String(client.frames.find((f) => f.type === 'accepted')!.resumeToken);
      const probe = await TestClient.connect(local.url);
      probe.send(resume('gone-soon', 'A'.repeat(32), 0)); // a token that was never issued
      probe.send(resume('other-id', token, 0)); // the token of another request
      await until(() => probe.frames.length === 2, 'two answers');
      // Retention 0: the ended request is gone at once.
      probe.send(resume('gone-soon', token, 0));
      await until(() => probe.frames.length === 3, 'three answers');
      for (const frame of probe.frames) expect(frame).toMatchObject({ type: 'error', code: 'resume_unavailable', retryable: false });
      // A wrong token reads exactly like an unknown request.
      expect(new Set(probe.frames.map((f) => f.message)).size).toBe(1);
      await Promise.all([client.close(), probe.close()]);
    } finally {
      await local.stop();
    }
  });

  it('moves a request to the connection that resumed it: the old one gets resumed_elsewhere and nothing more', async () => {
    const local = await mode.start({ MOCK_TOKEN_DELAY_MS: '5', MOCK_ANSWER_TOKENS: '200', CANCEL_CHECK_INTERVAL_MS: '20' });
    try {
      const old = await TestClient.connect(local.url);
      old.send(ask('moving'));
      await old.waitFor((f) => f.filter((x) => x.type === 'chunk').length >= 5);
      const token = String(old.frames.find((f) => f.type === 'accepted')!.resumeToken);
      const fresh = await TestClient.connect(local.url);
      fresh.send(resume('moving', token, 0));
      const end = await fresh.terminal('moving', 10_000);
      expect(end.type).toBe('done');
      const moved = fresh.of('moving').filter((f) => f.type === 'chunk');
      expect(moved.map((f) => f.seq)).toEqual(moved.map((_, i) => i));
      const oldFrames = old.of('moving');
      expect(oldFrames.at(-1)).toMatchObject({ type: 'error', code: 'resumed_elsewhere', retryable: false });
      expect(oldFrames.filter(isTerminal)).toHaveLength(1);
      await Promise.all([old.close(), fresh.close()]);
    } finally {
      await local.stop();
    }
  });

  it('stops the model and releases everything when no resume comes within the grace time', async () => {
    const model = countingModel(new MockChatModel({ tokenDelayMs: 5, answerTokens: 5000 }));
    const local = await mode.start({ RESUME_GRACE_SECONDS: '1', MAX_CONCURRENT_PER_CONNECTION: '1' }, model);
    try {
      const client = await TestClient.connect(local.url);
      client.send(ask('abandoned'));
      await client.waitFor((f) => f.some((x) => x.type === 'chunk'));
      client.socket.terminate();
      await until(() => model.aborted === 1, 'the model call to be aborted', 10_000);
      await local.idle();
      if (local.gateway.deps.config.store.kind === 'memory') expect((local.gateway.deps.counters as MemoryCounterStore).total('conc:')).toBe(0);
      // The user's slot is free: a new request on a new connection runs.
      const next = await TestClient.connect(local.url);
      next.send({ ...ask('next'), data: { messages: [{ role: 'user', content: 'short' }], inferenceConfig: { maxTokens: 3 } } });
      expect((await next.terminal('next', 10_000)).type).toBe('done');
      await next.close();
    } finally {
      await local.stop();
    }
  });
});

describe('resuming with auth on', () => {
  it('lets only the same user resume: another user gets resume_unavailable', async () => {
    const local = await startLocal({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, MOCK_ANSWER_TOKENS: '10' });
    try {
      const alice = await TestClient.connect(`${local.url}?token=${await hs256(claims({ sub: 'alice' }))}`);
      alice.send(ask('hers'));
      await alice.terminal('hers');
      const token = String(alice.frames.find((f) => f.type === 'accepted')!.resumeToken);
      const mallory = await TestClient.connect(`${local.url}?token=${await hs256(claims({ sub: 'mallory' }))}`);
      mallory.send(resume('hers', token, 0));
      expect(await mallory.terminal('hers')).toMatchObject({ code: 'resume_unavailable' });
      const aliceAgain = await TestClient.connect(`${local.url}?token=${await hs256(claims({ sub: 'alice' }))}`);
      aliceAgain.send(resume('hers', token, 0));
      expect((await aliceAgain.terminal('hers')).type).toBe('done');
      await Promise.all([alice.close(), mallory.close(), aliceAgain.close()]);
    } finally {
      await local.stop();
    }
  });
});
