import { mockAnswerTokens } from '../../src/llm/mock';
import { runLoad } from '../../bench/load-client';
import { TEST_SERVER } from '../helpers/local';
import { STORE_MODES } from '../helpers/store-modes';
import { until } from '../helpers/ws-client';

const LOAD_ENV = {
  MOCK_TOKEN_DELAY_MS: '5',
  MOCK_ANSWER_TOKENS: '30',
  STREAM_FLUSH_INTERVAL_MS: '20',
  // One source IP plays a hundred users here: the per-user limits would (rightly) stop it.
  RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
  RATE_LIMIT_TOKENS_PER_MINUTE: '0',
  MAX_CONCURRENT_PER_USER: '0',
};

describe.each(STORE_MODES)('load (reduced: 100 connections; correctness only, timings are in npm run bench), %s mode', (_name, makeMode) => {
  const mode = makeMode();
  afterAll(() => mode.stop());

  it('delivers 100 concurrent streams complete, in order, each to its own connection, and leaves nothing behind', async () => {
    // Prepare
    const local = await mode.start(LOAD_ENV, { server: { queue: { ...TEST_SERVER.queue, maxInvocations: 100 } } });
    const prompt = (i: number): string => `load test question number ${i}`;
    try {
      // Act
      const result = await runLoad({
        url: local.url,
        connections: 100,
        prompt,
        expected: (i) => mockAnswerTokens(prompt(i), 30).join(''),
        timeoutMs: 40_000,
      });
      // Assess
      expect(result.failures).toEqual([]);
      expect(result.connectionsHeld).toBe(100);
      expect(result.complete).toBe(100);
      // The last invocations end a moment after their terminal frames (they delete their messages last).
      await until(async () => {
        const left = await mode.leftovers(local);
        return left.requests === 0 && left.slots === 0 && local.queue.depth.messages === 0 && local.queue.depth.invocations === 0;
      }, 'no record, slot or queued job left', 10_000);
    } finally {
      await local.stop();
    }
  }, 60_000);
});
