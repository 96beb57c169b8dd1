/**
 * Ping → pong round trip on the local emulator: one connection, sequential pings, each through
 * the route, the app and a real PostToConnection back. Loopback only, bounded in count.
 */
import { loadLocalServerConfig } from '../src/config/local';
import { startLocalGateway } from '../src/local/emulator';
import { TestClient } from '../tests/helpers/ws-client';
import { percentile } from './load-client';

export interface PingResults {
  readonly samples: number;
  readonly medianMs: number;
  readonly p99Ms: number;
}

export async function measurePing(): Promise<PingResults> {
  const local = await startLocalGateway({ server: { ...loadLocalServerConfig({}), port: 0, host: '127.0.0.1' }, env: { LOG_LEVEL: 'silent' } });
  const client = await TestClient.connect(local.url);
  try {
    const samples: number[] = [];
    for (let i = 0; i < 520; i += 1) {
      const before = client.frames.length;
      const started = process.hrtime.bigint();
      client.send({ action: 'ping', requestId: `p${i}` });
      await client.waitFor((frames) => frames.length > before);
      // The first 20 warm the JIT and the SDK's connection pool.
      if (i >= 20) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return { samples: samples.length, medianMs: percentile(samples, 50), p99Ms: percentile(samples, 99) };
  } finally {
    await client.close();
    await local.stop();
  }
}
