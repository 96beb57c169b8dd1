import { mockAnswerTokens } from '../../src/llm/mock';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { runLoad } from '../../bench/load-client';
import { startLocal, TEST_SERVER } from '../helpers/local';

const LOAD_ENV = {
  MOCK_TOKEN_DELAY_MS: '5',
  MOCK_ANSWER_TOKENS: '30',
  STREAM_FLUSH_INTERVAL_MS: '20',
  // One source IP plays a hundred users here: the per-user limits would (rightly) stop it.
  RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
  RATE_LIMIT_TOKENS_PER_MINUTE: '0',
  MAX_CONCURRENT_PER_USER: '0',
};

describe('load (reduced: 100 connections; correctness only, timings are in npm run bench)', () => {
  it('delivers 100 concurrent streams complete, in order, each to its own connection, and leaves nothing behind', async () => {
    // Prepare
    const requests = new MemoryRequestStore();
    const counters = new MemoryCounterStore();
    const local = await startLocal(LOAD_ENV, { deps: { requests, counters }, server: { queue: { ...TEST_SERVER.queue, maxInvocations: 100 } } });
    const prompt = (i: number): string => `load test question number ${i}`;
    try {
      // Act
      const result = await runLoad({
        url: local.url,
        connections: 100,
        prompt,
        expected: (i) => mockAnswerTokens(prompt(i), 30).join(''),
        timeoutMs: 20_000,
      });
      // Assess
      expect(result.failures).toEqual([]);
      expect(result.connectionsHeld).toBe(100);
      expect(result.complete).toBe(100);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(requests.size).toBe(0);
      expect(counters.total('conc:')).toBe(0);
      expect(local.queue.depth).toEqual({ messages: 0, invocations: 0 });
    } finally {
      await local.stop();
    }
  });
});
