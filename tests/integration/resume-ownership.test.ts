import type { LocalGateway } from '../../src/local/emulator';
import { connectTracked, quiesce } from '../helpers/local';
import { STORE_MODES } from '../helpers/store-modes';
import { ClientPool, type Frame, type TestClient } from '../helpers/ws-client';

/**
 * Who holds a request when it is resumed — on the same connection, onto a connection that uses
 * the same id, away from a connection that is still open — and what a refused resume costs: in
 * memory and on DynamoDB alike, every request ends once on each connection that holds it, and a
 * refusal never reads as the end of a request that goes on.
 */

const ask = (requestId: string) => ({ action: 'llm/stream', requestId, data: { messages: [{ role: 'user', content: 'tell me more' }] } });
const resume = (requestId: string, resumeToken: string, fromSeq: number) => ({ action: 'llm/resume', requestId, data: { resumeToken, fromSeq } });
const isTerminal = (f: Frame): boolean => f.type === 'done' || (f.type === 'error' && f.requestId !== undefined) || (f.type === 'response' && f.part === f.parts - 1);
const WRONG_TOKEN = 'W'.repeat(32);

/** The seq numbers of one request's chunks on one connection, in arrival order. */
const seqs = (client: TestClient, requestId: string): number[] => client.of(requestId).filter((f) => f.type === 'chunk').map((f) => Number(f.seq));
const tokenOf = async (client: TestClient, requestId: string): Promise<string> => {
  const frames = await client.waitFor((all) => all.some((f) => f.type === 'accepted' && f.requestId === requestId), 5000, `${requestId} accepted`);
  return String(frames.find((f) => f.type === 'accepted' && f.requestId === requestId)!.resumeToken);
};
const chunksSeen = (client: TestClient, requestId: string, n: number): Promise<Frame[]> =>
  client.waitFor((all) => all.filter((f) => f.requestId === requestId && f.type === 'chunk').length >= n, 5000, `${n} chunks of ${requestId}`);

describe.each(STORE_MODES)('who holds a resumed request, %s mode', (_name, makeMode) => {
  const mode = makeMode();
  let local: LocalGateway | undefined;
  const pool = new ClientPool(() => local!.url);
  afterEach(async () => {
    await pool.closeAll();
    await local?.stop();
    local = undefined;
  });
  afterAll(() => mode.stop());

  async function expectNothingLeft(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const left = await mode.leftovers(local!);
      if ((left.requests === 0 && left.slots === 0) || Date.now() > deadline) return expect(left).toEqual({ requests: 0, slots: 0 });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('refuses a resume onto a connection running another request under the same id, and both answers stay whole', async () => {
    local = await mode.start({ MOCK_TOKEN_DELAY_MS: '4', MOCK_ANSWER_TOKENS: '120' });
    const a = await pool.connect();
    const b = await pool.connect();
    a.send(ask('r-1'));
    b.send(ask('r-1'));
    const tokenA = await tokenOf(a, 'r-1');
    await chunksSeen(b, 'r-1', 2);
    b.send(resume('r-1', tokenA, 0));
    await b.waitFor((all) => all.some((f) => f.refusedRequestId === 'r-1'), 5000, 'the refusal');
    expect(b.frames.find((f) => f.refusedRequestId === 'r-1')).toMatchObject({ type: 'error', code: 'invalid_request', retryable: false });
    await Promise.all([a.terminal('r-1', 10_000), b.terminal('r-1', 10_000)]);
    for (const client of [a, b]) {
      const ids = seqs(client, 'r-1');
      expect(ids).toEqual(ids.map((_, i) => i));
      expect(client.of('r-1').filter(isTerminal).map((f) => f.type)).toEqual(['done']);
      expect(client.of('r-1').filter((f) => f.type === 'done')[0]!.seq).toBe(ids.length);
    }
    await expectNothingLeft();
  });

  it('moves the request away from a connection that is still open: its cancel no longer reaches it, and its id is free at once', async () => {
    local = await mode.start({ MOCK_TOKEN_DELAY_MS: '4', MOCK_ANSWER_TOKENS: '150' });
    const a = await pool.connect();
    a.send(ask('x'));
    const token = await tokenOf(a, 'x');
    await chunksSeen(a, 'x', 2);
    const b = await pool.connect();
    b.send(resume('x', token, 0));
    await a.waitFor((all) => all.some((f) => f.code === 'resumed_elsewhere'), 5000, 'resumed_elsewhere');
    // The moment it reads resumed_elsewhere, the old connection is done with the request.
    a.send({ action: 'llm/cancel', requestId: 'x' });
    a.send(ask('x'));
    const [onB, onA] = await Promise.all([b.terminal('x', 10_000), a.waitFor((all) => all.filter((f) => f.requestId === 'x' && f.type === 'done').length === 1, 10_000, 'the new x done')]);
    expect(onB.type).toBe('done');
    expect(b.of('x')[0]).toMatchObject({ type: 'resumed', requestId: 'x', fromSeq: 0 });
    const after = onA.slice(onA.findIndex((f) => f.code === 'resumed_elsewhere') + 1).filter((f) => f.requestId === 'x' || f.refusedRequestId === 'x');
    expect(after[0]).toMatchObject({ type: 'accepted', requestId: 'x' });
    expect(after.filter(isTerminal).map((f) => f.type)).toEqual(['done']);
    expect(after.some((f) => f.refusedRequestId === 'x')).toBe(false);
    await expectNothingLeft();
  });

  it('answers a wrong token on the connection that holds the request with a refusal, and the request still ends once', async () => {
    local = await mode.start({ MOCK_TOKEN_DELAY_MS: '4', MOCK_ANSWER_TOKENS: '80' });
    const a = await pool.connect();
    a.send(ask('mine'));
    await chunksSeen(a, 'mine', 1);
    a.send(resume('mine', WRONG_TOKEN, 0));
    await a.waitFor((all) => all.some((f) => f.refusedRequestId === 'mine'), 5000, 'the refusal');
    expect(a.frames.find((f) => f.refusedRequestId === 'mine')).toMatchObject({ code: 'resume_unavailable' });
    await a.terminal('mine', 10_000);
    expect(a.of('mine').filter(isTerminal).map((f) => f.type)).toEqual(['done']);
    await expectNothingLeft();
  });

  it('repairs a gap on the same connection: resumed, every chunk from fromSeq again, one done', async () => {
    local = await mode.start({ MOCK_TOKEN_DELAY_MS: '4', MOCK_ANSWER_TOKENS: '120' });
    const a = await pool.connect();
    a.send(ask('gap'));
    const token = await tokenOf(a, 'gap');
    await chunksSeen(a, 'gap', 4);
    a.send(resume('gap', token, 1));
    await a.terminal('gap', 10_000);
    const frames = a.of('gap');
    const resumedAt = frames.findIndex((f) => f.type === 'resumed');
    expect(frames[resumedAt]).toMatchObject({ fromSeq: 1 });
    expect(frames.slice(resumedAt + 1).find((f) => f.type === 'chunk')?.seq).toBe(1);
    const distinct = [...new Set(seqs(a, 'gap'))].sort((x, y) => x - y);
    expect(distinct).toEqual(distinct.map((_, i) => i));
    expect(frames.filter(isTerminal).map((f) => f.type)).toEqual(['done']);
    await expectNothingLeft();
  });

  it('replays an ended answer once to a connection that asks twice at once, and never interleaves two replays', async () => {
    local = await mode.start({ MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '60', STREAM_FLUSH_INTERVAL_MS: '1' });
    const a = await pool.connect();
    a.send(ask('twice'));
    const token = await tokenOf(a, 'twice');
    await a.terminal('twice', 10_000);
    const b = await pool.connect();
    for (let i = 0; i < 4; i += 1) b.send(resume('twice', token, 0));
    await b.terminal('twice', 10_000);
    await quiesce(local, b);
    const frames = b.of('twice');
    const seen = frames.filter((f) => f.type === 'resumed' || f.type === 'done');
    // One replay; the other resumes joined it (no frame of their own) or were refused.
    expect(seen.map((f) => f.type)).toEqual(['resumed', 'done']);
    expect(seqs(b, 'twice')).toEqual(seqs(a, 'twice'));
    expect(b.frames.filter((f) => f.refusedRequestId === 'twice').every((f) => f.code === 'invalid_request')).toBe(true);
    await expectNothingLeft();
  });

  it('does not count refused resumes toward requests per minute: the genuine one still goes through', async () => {
    local = await mode.start({ RATE_LIMIT_REQUESTS_PER_MINUTE: '4', MOCK_TOKEN_DELAY_MS: '5', MOCK_ANSWER_TOKENS: '150' });
    const a = await pool.connect();
    a.send(ask('counted'));
    const token = await tokenOf(a, 'counted');
    const b = await pool.connect();
    for (let i = 0; i < 3; i += 1) b.send(resume('counted', WRONG_TOKEN, 0));
    await b.waitFor((all) => all.filter((f) => f.code === 'resume_unavailable').length === 3, 5000, 'three refusals');
    expect(b.frames.every((f) => f.requestId === 'counted')).toBe(true);
    b.send(resume('counted', token, 0));
    await b.waitFor((all) => all.some((f) => f.requestId === 'counted' && (f.type === 'done' || f.code === 'rate_limited')), 10_000, 'the resumed answer');
    expect(b.of('counted').filter(isTerminal).map((f) => f.code ?? f.type)).toEqual(['resume_unavailable', 'resume_unavailable', 'resume_unavailable', 'done']);
  });

  it('sends a live resume nothing below its fromSeq, even when fromSeq is beyond the chunks so far', async () => {
    local = await mode.start({ MOCK_TOKEN_DELAY_MS: '4', MOCK_ANSWER_TOKENS: '400', STREAM_FLUSH_INTERVAL_MS: '5' });
    const session = await connectTracked(local);
    pool.track(session.client);
    session.client.send(ask('ahead'));
    const token = await tokenOf(session.client, 'ahead');
    await chunksSeen(session.client, 'ahead', 3);
    const fromSeq = seqs(session.client, 'ahead').length + 15;
    const b = await pool.connect();
    b.send(resume('ahead', token, fromSeq));
    const end = await b.terminal('ahead', 20_000);
    expect(end.type).toBe('done');
    const got = seqs(b, 'ahead');
    expect(got.length).toBeGreaterThan(0);
    expect(Math.min(...got)).toBe(fromSeq);
    expect(got).toEqual(got.map((_, i) => fromSeq + i));
  });
});
