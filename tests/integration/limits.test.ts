import type { ChatModel } from '../../src/llm/chat-model';
import { dynamoClient, startDynalite } from '../helpers/dynamo';
import { startLocal } from '../helpers/local';
import { TestClient, sleep } from '../helpers/ws-client';

const ask = (requestId: string, maxTokens = 2) => ({
  action: 'llm/stream',
  requestId,
  data: { messages: [{ role: 'user', content: 'q' }], inferenceConfig: { maxTokens } },
});

/** Fixed windows: start a burst well inside a minute so it cannot straddle two windows. */
async function awayFromMinuteEdge(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 55_000) await sleep(60_000 - intoMinute + 100);
}

describe('per-user limits', () => {
  it('answers a burst past the requests-per-minute limit with rate_limited and the time to the next window', async () => {
    // Room for every answer at once, so the only limit the burst meets is requests per minute.
    const local = await startLocal({ RATE_LIMIT_REQUESTS_PER_MINUTE: '3', MAX_CONCURRENT_PER_CONNECTION: '10' });
    const client = await TestClient.connect(local.url);
    try {
      await awayFromMinuteEdge();
      const sentAt = Date.now();
      for (let i = 0; i < 5; i += 1) client.send(ask(`r${i}`));
      const ends = await Promise.all([0, 1, 2, 3, 4].map((i) => client.terminal(`r${i}`)));
      expect(ends.filter((f) => f.type === 'done')).toHaveLength(3);
      const limited = ends.filter((f) => f.type === 'error');
      expect(limited).toHaveLength(2);
      const receivedAt = Date.now();
      for (const frame of limited) {
        expect(frame).toMatchObject({ code: 'rate_limited', retryable: true });
        // Refused at some moment t between the send and now, retryAfterMs says when t's window
        // ends: t + retryAfterMs is a whole minute for some t in [sentAt, receivedAt] — however
        // slow this machine was.
        const r = Number(frame.retryAfterMs);
        expect(r).toBeGreaterThan(0);
        expect(r).toBeLessThanOrEqual(60_000);
        expect(Math.ceil((sentAt + r) / 60_000) * 60_000).toBeLessThanOrEqual(receivedAt + r);
      }
    } finally {
      await client.close();
      await local.stop();
    }
  });

  it('reserves tokens against the per-minute budget and settles them to the real usage', async () => {
    const local = await startLocal({ RATE_LIMIT_TOKENS_PER_MINUTE: '100', MOCK_TOKEN_DELAY_MS: '10', MOCK_ANSWER_TOKENS: '40' });
    const client = await TestClient.connect(local.url);
    try {
      await awayFromMinuteEdge();
      // Each request reserves ~1 prompt token + maxTokens 50 = 51: two at once exceed 100.
      client.send(ask('t1', 50));
      await client.waitFor((frames) => frames.some((f) => f.requestId === 't1' && f.type === 'accepted'));
      client.send(ask('t2', 50));
      expect(await client.terminal('t2')).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/100 tokens per minute/) });
      const done = await client.terminal('t1');
      expect(done.usage.totalTokens).toBe(41);
      // Settled to 41 used, 51 more fit (92 ≤ 100); without settlement they would not (102).
      client.send(ask('t3', 50));
      expect((await client.terminal('t3')).type).toBe('done');
    } finally {
      await client.close();
      await local.stop();
    }
  });

  it('limits answers running at once on a connection, and frees the slot when one ends', async () => {
    const local = await startLocal({ MAX_CONCURRENT_PER_CONNECTION: '1', MOCK_TOKEN_DELAY_MS: '10' });
    const client = await TestClient.connect(local.url);
    try {
      client.send(ask('long', 30));
      await client.waitFor((frames) => frames.some((f) => f.type === 'accepted'));
      client.send(ask('second'));
      expect(await client.terminal('second')).toMatchObject({ code: 'rate_limited', retryAfterMs: 1000 });
      expect((await client.terminal('long')).type).toBe('done');
      client.send(ask('third'));
      expect((await client.terminal('third')).type).toBe('done');
    } finally {
      await client.close();
      await local.stop();
    }
  });

  it('gives the slot back when a generation crashes', async () => {
    const crashing: ChatModel = {
      async *stream() {
        await sleep(5);
        throw new Error('model crashed');
      },
    };
    const local = await startLocal({ MAX_CONCURRENT_PER_CONNECTION: '1', MAX_CONCURRENT_PER_USER: '1' }, { deps: { model: crashing } });
    const client = await TestClient.connect(local.url);
    try {
      for (const id of ['c1', 'c2', 'c3']) {
        client.send(ask(id));
        expect(await client.terminal(id)).toMatchObject({ code: 'internal_error' });
      }
    } finally {
      await client.close();
      await local.stop();
    }
  });

  it('holds across two app instances sharing one DynamoDB table', async () => {
    const dynalite = await startDynalite();
    const db = dynamoClient(dynalite.endpoint);
    const env = { DYNAMODB_ENDPOINT: dynalite.endpoint, CONNECTIONS_TABLE: 'limits', RATE_LIMIT_REQUESTS_PER_MINUTE: '2' };
    const a = await startLocal(env, { clients: { dynamoClient: db } });
    const b = await startLocal(env, { clients: { dynamoClient: db } });
    const [onA, onB] = await Promise.all([TestClient.connect(a.url), TestClient.connect(b.url)]);
    try {
      await awayFromMinuteEdge();
      onA.send(ask('a1'));
      expect((await onA.terminal('a1')).type).toBe('done');
      onB.send(ask('b1'));
      expect((await onB.terminal('b1')).type).toBe('done');
      onA.send(ask('a2'));
      onB.send(ask('b2'));
      const [a2, b2] = await Promise.all([onA.terminal('a2'), onB.terminal('b2')]);
      expect([a2.code, b2.code]).toEqual(['rate_limited', 'rate_limited']);
    } finally {
      await Promise.all([onA.close(), onB.close()]);
      await a.stop();
      await b.stop();
      db.destroy();
      await dynalite.stop();
    }
  });
});
