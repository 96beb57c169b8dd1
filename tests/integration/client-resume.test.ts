import WebSocket from 'ws';
import { GatewayClient } from '../../client/src/index.js';
import type { LocalGateway } from '../../src/local/emulator';
import { mockAnswerTokens } from '../../src/llm/mock';
import { startLocal } from '../helpers/local';
import { until } from '../helpers/ws-client';

/** `client.resume()` and `stream.resumeToken`: what a page needs to pick an answer up after a reload. */
describe('resuming an answer from another client (a reloaded page)', () => {
  let local: LocalGateway;
  beforeEach(async () => {
    local = await startLocal({ MOCK_TOKEN_DELAY_MS: '20', MOCK_ANSWER_TOKENS: '60', STREAM_FLUSH_INTERVAL_MS: '0', RESUME_GRACE_SECONDS: '30' });
  });
  afterEach(() => local.stop());

  it('the first page keeps the token; after it is gone, a new client resumes from seq 0 and reads the whole answer once', async () => {
    // The page that goes away: its client can never reconnect (so it never resumes, nor cancels).
    let made = 0;
    class FirstOnly extends WebSocket {
      constructor(url: string) {
        super((made += 1) === 1 ? url : 'ws://127.0.0.1:9/');
      }
    }
    const first = new GatewayClient({ url: local.url, WebSocket: FirstOnly });
    const stream = first.stream({ messages: [{ role: 'user', content: 'a long one' }] }, { requestId: 'page-1' });
    let read = '';
    for await (const delta of stream) {
      read += delta;
      if (read.length > 30) break;
    }
    const token = stream.resumeToken;
    expect(token).toMatch(/^[A-Za-z0-9_-]{16,128}$/);
    // The page goes away without a word (a reload): its connection is simply gone.
    const [connectionId] = local.connectionIds();
    await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
    await first.close();
    const second = new GatewayClient({ url: local.url, WebSocket });
    try {
      const resumed = second.resume({ requestId: 'page-1', resumeToken: token! });
      let text = '';
      for await (const delta of resumed) text += delta;
      expect(text).toBe(mockAnswerTokens('a long one', 60).join(''));
      expect(await resumed.done).toMatchObject({ requestId: 'page-1', stopReason: 'end_turn' });
      expect(resumed.resumeToken).toBe(token);
      // From the middle too: only what was not read yet.
      const again = second.resume({ requestId: 'page-1', resumeToken: token!, fromSeq: 5 });
      let rest = '';
      for await (const delta of again) rest += delta;
      expect(text.endsWith(rest)).toBe(true);
      expect(rest.length).toBeLessThan(text.length);
      await expect(second.resume({ requestId: 'page-1', resumeToken: 'W'.repeat(32) }).done).rejects.toMatchObject({ code: 'resume_unavailable' });
    } finally {
      await second.close();
    }
    await until(() => local.connectionIds().length === 0, 'the clients to leave');
  });

  it('tells the caller of each resume the gateway took (onResumed, with its fromSeq): after a dropped connection and for resume(); the text stays whole and once', async () => {
    const client = new GatewayClient({ url: local.url, WebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    try {
      const resumes: number[] = [];
      const stream = client.stream({ messages: [{ role: 'user', content: 'resume me' }] }, { requestId: 'r-1', onResumed: (fromSeq) => resumes.push(fromSeq) });
      let text = '';
      let cut = false;
      for await (const delta of stream) {
        text += delta;
        if (!cut && text.length > 30) {
          cut = true;
          const [connectionId] = local.connectionIds();
          await fetch(`${local.managementEndpoint}/@connections/${encodeURIComponent(connectionId!)}`, { method: 'DELETE' });
          expect(resumes).toEqual([]);
        }
      }
      expect(text).toBe(mockAnswerTokens('resume me', 60).join(''));
      expect(resumes).toHaveLength(1);
      expect(resumes[0]).toBeGreaterThan(0);
      const again: number[] = [];
      const replay = client.resume({ requestId: 'r-1', resumeToken: stream.resumeToken!, fromSeq: 5 }, { onResumed: (fromSeq) => again.push(fromSeq) });
      await replay.done;
      expect(again).toEqual([5]);
    } finally {
      await client.close();
    }
  });
});
