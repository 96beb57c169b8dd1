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
};

/** Starts the emulator on 127.0.0.1, port 0, with quiet logs and a fast mock model. */
export function startLocal(
  env: Env = {},
  options: Partial<Omit<LocalGatewayOptions, 'env'>> & { server?: Partial<LocalServerConfig> } = {},
): Promise<LocalGateway> {
  return startLocalGateway({
    ...options,
    server: { ...TEST_SERVER, ...options.server },
    env: { ...TEST_ENV, ...env },
  });
}
