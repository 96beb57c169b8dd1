import type WebSocket from 'ws';
import { TestClient } from './ws-client';
import type { Env } from '../../src/config/env';
import type { LocalServerConfig } from '../../src/config/local';
import { startLocalGateway, type LocalGateway, type LocalGatewayOptions } from '../../src/local/emulator';

export const TEST_SERVER: LocalServerConfig = {
  port: 0,
  host: '127.0.0.1',
  stage: 'local',
  idleTimeoutMs: 60_000,
  maxConnectionMs: 600_000,
};

export const TEST_ENV: Env = {
  LOG_LEVEL: 'silent',
  MOCK_TOKEN_DELAY_MS: '2',
  MOCK_ANSWER_TOKENS: '40',
  STREAM_FLUSH_INTERVAL_MS: '10',
  CANCEL_CHECK_INTERVAL_MS: '20',
  // Suites send many requests from 127.0.0.1; the limit tests set their own.
  RATE_LIMIT_REQUESTS_PER_MINUTE: '10000',
};

/** Starts the emulator on 127.0.0.1, port 0, with quiet logs and a fast mock model. */
export function startLocal(
  env: Env = {},
  options: Partial<Omit<LocalGatewayOptions, 'env' | 'server'>> & { server?: Partial<LocalServerConfig> } = {},
): Promise<LocalGateway> {
  return startLocalGateway({
    ...options,
    server: { ...TEST_SERVER, ...options.server },
    env: { ...TEST_ENV, ...env },
  });
}

/** Connects a client and tells which connection id the emulator gave it. */
export async function connectTracked(
  local: LocalGateway,
  options: WebSocket.ClientOptions = {},
  query = '',
): Promise<{ client: TestClient; connectionId: string }> {
  const before = new Set(local.connectionIds());
  const client = await TestClient.connect(`${local.url}${query}`, options);
  const fresh = local.connectionIds().filter((id) => !before.has(id));
  if (fresh.length !== 1) throw new Error(`expected one new connection, saw ${fresh.length}`);
  return { client, connectionId: fresh[0]! };
}
