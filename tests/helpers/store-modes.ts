import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChatModel } from '../../src/llm/chat-model';
import type { LocalGateway } from '../../src/local/emulator';
import type { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import type { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { dynamoClient, startDynalite } from './dynamo';
import { startLocal } from './local';

/** What a gateway left in its shared store: request records and concurrency slots held. */
export interface Leftovers {
  readonly requests: number;
  readonly slots: number;
}

/**
 * Where the emulator keeps its state for a suite: in memory, or in DynamoDB (dynalite through
 * the real SDK, a fresh table per gateway) — so one test proves a guarantee on both.
 */
export interface StoreMode {
  readonly name: 'memory' | 'DynamoDB';
  start(env?: Record<string, string>, model?: ChatModel): Promise<LocalGateway>;
  leftovers(local: LocalGateway): Promise<Leftovers>;
  stop(): Promise<void>;
}

export function memoryMode(): StoreMode {
  return {
    name: 'memory',
    start: (env = {}, model) => startLocal(env, model ? { deps: { model } } : {}),
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
    start: async (env = {}, model) => {
      dynalite ??= await startDynalite();
      client ??= dynamoClient(dynalite.endpoint);
      const table = `${prefix}-${(tables += 1)}`;
      const local = await startLocal({ DYNAMODB_ENDPOINT: dynalite.endpoint, CONNECTIONS_TABLE: table, ...env }, { clients: { dynamoClient: client }, ...(model ? { deps: { model } } : {}) });
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
