/**
 * Core measurements on the local emulator: ping→pong round trip and frames per streamed answer.
 * Loopback only, bounded in count and time. Run through `npm run bench`.
 */
import { loadLocalServerConfig } from '../src/config/local';
import { startLocalGateway } from '../src/local/emulator';
import { TestClient } from '../tests/helpers/ws-client';

export interface CoreResults {
  pingSamples: number;
  pingMedianMs: number;
  pingP99Ms: number;
  answerTokens: number;
  tokenDelayMs: number;
  flushIntervalMs: number;
  chunkFrames: number;
  totalFrames: number;
  answerMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function measureCore(): Promise<CoreResults> {
  const tokenDelayMs = 20;
  const answerTokens = 500;
  const flushIntervalMs = 100;
  const local = await startLocalGateway({
    server: { ...loadLocalServerConfig({}), port: 0, host: '127.0.0.1' },
    env: {
      LOG_LEVEL: 'silent',
      MOCK_TOKEN_DELAY_MS: String(tokenDelayMs),
      MOCK_ANSWER_TOKENS: String(answerTokens),
      STREAM_FLUSH_INTERVAL_MS: String(flushIntervalMs),
    },
  });
  const client = await TestClient.connect(local.url);
  try {
    // Ping → pong: sequential, after a short warm-up.
    const samples: number[] = [];
    for (let i = 0; i < 520; i += 1) {
      const before = client.frames.length;
      const started = process.hrtime.bigint();
      client.send({ action: 'ping', requestId: `p${i}` });
      await client.waitFor((frames) => frames.length > before);
      if (i >= 20) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    samples.sort((a, b) => a - b);

    // One 500-token streamed answer at 50 tokens/s.
    const started = Date.now();
    client.send({ action: 'llm/stream', requestId: 'long', data: { messages: [{ role: 'user', content: 'benchmark' }] } });
    const done = await client.terminal('long', 60_000);
    const frames = client.of('long');
    const usage = done.usage as { outputTokens: number } | undefined;
    if (done.type !== 'done' || usage?.outputTokens !== answerTokens) throw new Error('the answer did not complete');
    return {
      pingSamples: samples.length,
      pingMedianMs: percentile(samples, 50),
      pingP99Ms: percentile(samples, 99),
      answerTokens,
      tokenDelayMs,
      flushIntervalMs,
      chunkFrames: frames.filter((f) => f.type === 'chunk').length,
      totalFrames: frames.length,
      answerMs: Date.now() - started,
    };
  } finally {
    await client.close();
    await local.stop();
  }
}
