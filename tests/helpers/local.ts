import type WebSocket from 'ws';
import { TestClient } from './ws-client';
import type { AppDeps } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import type { Env } from '../../src/config/env';
import { createDeps, type DepsOptions } from '../../src/deps';
import { ALL_PARTS } from '../../src/entries/all-parts';
import { createGateway } from '../../src/gateway';
import { messageEvent } from '../../src/local/events';
import type { LocalServerConfig } from '../../src/config/local';
import { startLocalGateway, type LocalGateway, type LocalGatewayOptions } from '../../src/local/emulator';

export const TEST_SERVER: LocalServerConfig = {
  port: 0,
  host: '127.0.0.1',
  stage: 'local',
  idleTimeoutMs: 60_000,
  maxConnectionMs: 600_000,
  queue: { visibilityTimeoutMs: 60_000, maxInvocations: 50, batchSize: 10 },
};

export const TEST_ENV: Env = {
  LOG_LEVEL: 'silent',
  MOCK_TOKEN_DELAY_MS: '2',
  MOCK_ANSWER_TOKENS: '40',
  STREAM_FLUSH_INTERVAL_MS: '10',
  // A fixed cadence: suites that cut or resume mid-answer count on many frames (the growth
  // after the first second is the chunk stream's own test).
  STREAM_FLUSH_MAX_INTERVAL_MS: '10',
  CANCEL_CHECK_INTERVAL_MS: '20',
  // Suites send many requests from 127.0.0.1; the limit tests set their own.
  RATE_LIMIT_REQUESTS_PER_MINUTE: '10000',
  // The emulated worker's Lambda timeout (the app reads it; the emulator follows).
  WORKER_TIMEOUT_MS: '30000',
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

/**
 * Sends `llm/cancel` for `requestId` of `connectionId` through a second app instance — what a
 * cancel handled by another Lambda invocation looks like. The instance shares only what `deps`
 * and `clients` give it (the stores), never the emulator's in-process registry.
 */
export async function cancelFromAnotherInstance(
  local: LocalGateway,
  connectionId: string,
  requestId: string,
  setup: { env?: Env; deps?: Partial<AppDeps>; clients?: DepsOptions } = {},
): Promise<void> {
  const config = loadConfig(
    { LOG_LEVEL: 'silent', ...setup.env },
    { managementEndpoint: local.managementEndpoint, queue: local.gateway.deps.config.queue },
  );
  const instance = await createGateway({ ...createDeps(config, setup.clients ?? {}, ALL_PARTS), ...setup.deps });
  try {
    const source = { connectionId, connectedAt: Date.now(), apiId: 'other', domainName: 'd', stage: 'local', sourceIp: '127.0.0.1', userAgent: undefined, authorizer: undefined };
    await instance.handler(messageEvent(source, 'llm/cancel', JSON.stringify({ action: 'llm/cancel', requestId })));
  } finally {
    await instance.app.close();
  }
}

let probes = 0;

/**
 * Waits until the emulator has nothing running, then until `client` has received everything
 * it was sent: a ping sent now is answered after every earlier frame on that socket. A negative
 * check ("nothing more arrived") made after this rests on an event, not on a sleep.
 */
export async function quiesce(local: LocalGateway, client?: TestClient): Promise<void> {
  await local.idle();
  if (client === undefined || client.socket.readyState !== client.socket.OPEN) return;
  const requestId = `quiesce-${(probes += 1)}`;
  client.send({ action: 'ping', requestId });
  await client.waitFor((frames) => frames.some((f) => f.type === 'pong' && f.requestId === requestId), 5000, 'the quiescence probe');
}
