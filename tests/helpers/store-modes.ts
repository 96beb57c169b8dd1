import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChatModel } from '../../src/llm/chat-model';
import type { Logger } from '../../src/utils/logger';
import type { LocalServerConfig } from '../../src/config/local';
import type { LocalGateway, LocalGatewayOptions } from '../../src/local/emulator';
import type { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import type { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { dynamoClient, startDynalite } from './dynamo';
import { startLocal } from './local';
import { ClientPool } from './ws-client';

/** What a gateway left in its shared store: request records and concurrency slots held. */
export interface Leftovers {
  readonly requests: number;
  readonly slots: number;
}

/**
 * Where the emulator keeps its state for a suite: in memory, or in DynamoDB (dynalite through
 * the real SDK, a fresh table per gateway) — so one test proves a guarantee on both.
 */
/** What a test may add to the emulator beside the store: its model, post faults, clients. */
export type ModeExtras = Pick<LocalGatewayOptions, 'beforePost' | 'clients' | 'onEvent'> & {
  readonly model?: ChatModel;
  /** A logger of the test's own (to read what the gateway logs). */
  readonly logger?: Logger;
  readonly server?: Partial<LocalServerConfig>;
};

export interface StoreMode {
  readonly name: 'memory' | 'DynamoDB';
  start(env?: Record<string, string>, extras?: ChatModel | ModeExtras): Promise<LocalGateway>;
  leftovers(local: LocalGateway): Promise<Leftovers>;
  stop(): Promise<void>;
}

/** The emulator options for a test's extras (a bare model is the common case). */
function options(extras: ChatModel | ModeExtras | undefined): Omit<LocalGatewayOptions, 'server' | 'env'> & { server?: Partial<LocalServerConfig> } {
  if (extras === undefined) return {};
  if ('stream' in extras) return { deps: { model: extras } };
  const { model, logger, ...rest } = extras;
  return { ...rest, ...(model || logger ? { deps: { ...(model ? { model } : {}), ...(logger ? { logger } : {}) } } : {}) };
}

export function memoryMode(): StoreMode {
  return {
    name: 'memory',
    start: (env = {}, extras) => startLocal(env, options(extras)),
    leftovers: (local) => {
      const requests = local.gateway.deps.requests as MemoryRequestStore;
      const counters = local.gateway.deps.counters as MemoryCounterStore;
      return Promise.resolve({ requests: requests.size, slots: counters.total('conc:') });
    },
    stop: () => Promise.resolve(),
  };
}

export function dynamoMode(prefix = 'mode'): StoreMode {
  let dynalite: Awaited<ReturnType<typeof startDynalite>> | undefined;
  let client: DynamoDBClient | undefined;
  let tables = 0;
  const tableOf = new Map<LocalGateway, string>();
  return {
    name: 'DynamoDB',
    start: async (env = {}, extras) => {
      dynalite ??= await startDynalite();
      client ??= dynamoClient(dynalite.endpoint);
      const table = `${prefix}-${(tables += 1)}`;
      const given = options(extras);
      const local = await startLocal({ DYNAMODB_ENDPOINT: dynalite.endpoint, CONNECTIONS_TABLE: table, ...env }, { ...given, clients: { ...given.clients, dynamoClient: client } });
      tableOf.set(local, table);
      return local;
    },
    leftovers: async (local) => {
      const { Items = [] } = await client!.send(new ScanCommand({ TableName: tableOf.get(local), ConsistentRead: true }));
      const now = Math.floor(Date.now() / 1000);
      const live = Items.filter((item) => Number(item['ttl']?.N ?? Infinity) > now);
      const requests = live.filter((item) => item['sk']?.S?.startsWith('REQ#')).length;
      const slots = live.filter((item) => item['pk']?.S?.startsWith('SLOT#conc')).reduce((sum, item) => sum + Object.keys(item['s']?.M ?? {}).length, 0);
      return { requests, slots };
    },
    stop: async () => {
      client?.destroy();
      await dynalite?.stop();
    },
  };
}

/** Both modes, for `describe.each`. */
export const STORE_MODES: ReadonlyArray<[string, () => StoreMode]> = [
  ['memory', memoryMode],
  ['DynamoDB', dynamoMode],
];

/**
 * One store mode's suite setup: a gateway per test (started with `start`, stopped after it with
 * every client of `pool`), the mode stopped after the suite.
 */
export function modeSuite(makeMode: () => StoreMode): {
  readonly pool: ClientPool;
  start(env?: Record<string, string>, extras?: ChatModel | ModeExtras): Promise<LocalGateway>;
} {
  const mode = makeMode();
  let local: LocalGateway | undefined;
  const pool = new ClientPool(() => local!.url);
  afterEach(async () => {
    await pool.closeAll();
    await local?.stop();
    local = undefined;
  });
  afterAll(() => mode.stop());
  return { pool, start: async (env, extras) => (local = await mode.start(env, extras)) };
}
