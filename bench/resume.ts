/**
 * Resume latency and the writes resumability costs, on the local emulator at the default
 * CANCEL_CHECK_INTERVAL_MS: an answer is dropped mid-way (socket reset), resumed on a new
 * connection, and the time from sending `llm/resume` to the first replayed chunk is measured.
 * The stream store is wrapped to count its writes per answer. Loopback only, bounded in count.
 */
import { loadLocalServerConfig } from '../src/config/local';
import { startLocalGateway } from '../src/local/emulator';
import { MemoryStreamStore } from '../src/stores/memory-stream-store';
import { sleep, TestClient } from '../tests/helpers/ws-client';
import { percentile } from './load-client';

export interface ResumeResults {
  readonly samples: number;
  readonly cancelCheckIntervalMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Chunk frames of the 500-token answer measured for writes. */
  readonly chunkFrames: number;
  /** Stream-store writes for that answer: open, the log's checkpoints, end. */
  readonly tokenDelayMs: number;
  readonly streamWrites: number;
}

/** A memory stream store that counts its writes. */
class CountingStreams extends MemoryStreamStore {
  writes = 0;

  override open(...args: Parameters<MemoryStreamStore['open']>): Promise<void> {
    this.writes += 1;
    return super.open(...args);
  }

  override append(...args: Parameters<MemoryStreamStore['append']>): Promise<void> {
    this.writes += 1;
    return super.append(...args);
  }

  override end(...args: Parameters<MemoryStreamStore['end']>): Promise<boolean> {
    this.writes += 1;
    return super.end(...args);
  }
}

const RUNS = 40;

export async function measureResume(): Promise<ResumeResults> {
  const streams = new CountingStreams();
  const env = { LOG_LEVEL: 'silent', MOCK_TOKEN_DELAY_MS: '10', MOCK_ANSWER_TOKENS: '500', RATE_LIMIT_REQUESTS_PER_MINUTE: '0' };
  const local = await startLocalGateway({ server: { ...loadLocalServerConfig({}), port: 0, host: '127.0.0.1' }, env, deps: { streams } });
  const interval = local.gateway.deps.config.stream.cancelCheckIntervalMs;
  try {
    // Writes of one whole answer, undisturbed.
    const plain = await TestClient.connect(local.url);
    const before = streams.writes;
    plain.send({ action: 'llm/stream', requestId: 'w', data: { messages: [{ role: 'user', content: 'count my writes' }] } });
    await plain.terminal('w', 30_000);
    const streamWrites = streams.writes - before;
    const chunkFrames = plain.of('w').filter((f) => f.type === 'chunk').length;
    await plain.close();

    const samples: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const first = await TestClient.connect(local.url);
      const id = `r${i}`;
      first.send({ action: 'llm/stream', requestId: id, data: { messages: [{ role: 'user', content: `story ${i}` }] } });
      await first.waitFor((frames) => frames.filter((f) => f.type === 'chunk').length >= 3, 10_000);
      first.socket.terminate();
      await first.closed;
      const seen = first.frames.filter((f) => f.type === 'chunk').length;
      const token = String(first.frames.find((f) => f.type === 'accepted')?.resumeToken);
      const second = await TestClient.connect(local.url);
      // A client comes back at any moment relative to the worker's poll: sample every phase.
      await sleep(Math.random() * interval);
      const started = process.hrtime.bigint();
      second.send({ action: 'llm/resume', requestId: id, data: { resumeToken: token, fromSeq: seen } });
      await second.waitFor((frames) => frames.some((f) => f.type === 'chunk' || f.type === 'done'), 10_000);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      second.send({ action: 'llm/cancel', requestId: id });
      await second.terminal(id, 10_000);
      await second.close();
    }
    return { samples: samples.length, cancelCheckIntervalMs: interval, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), chunkFrames, streamWrites, tokenDelayMs: 10 };
  } finally {
    await local.stop();
  }
}
