import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AppConfig } from '../config/config';
import type { ConnectionStore } from './connection-store';
import { DynamoConnectionStore } from './dynamodb/connection-store';
import { DynamoRequestStore } from './dynamodb/request-store';
import { ensureTable } from './dynamodb/table';
import { MemoryConnectionStore } from './memory-connection-store';
import { MemoryRequestStore } from './memory-request-store';
import type { RequestStore } from './request-store';
import type { CounterStore } from './counter-store';
import { DynamoCounterStore } from './dynamodb/counter-store';
import { MemoryCounterStore } from './memory-counter-store';
import { DynamoStreamStore } from './dynamodb/stream-store';
import { MemoryStreamStore } from './memory-stream-store';
import type { StreamStore } from './stream-store';
import type { ConversationStore } from './conversation-store';
import { DynamoConversationStore } from './dynamodb/conversation-store';
import { MemoryConversationStore } from './memory-conversation-store';

export interface Stores {
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly counters: CounterStore;
  readonly streams: StreamStore;
  readonly conversations: ConversationStore;
  /** Creates missing tables when the endpoint is a local one; a no-op otherwise. */
  readonly prepare: () => Promise<void>;
}

/** Static credentials for a local endpoint that checks no signature (the emulator's). */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The one DynamoDB client of a cold start (the SDK retries throttling with backoff). Against a
 * local endpoint the caller passes static credentials, so a machine with no AWS account works.
 */
export function createDynamoClient(config: AppConfig, localCredentials?: LocalCredentials): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    maxAttempts: config.store.maxAttempts,
    ...(config.store.endpoint ? { endpoint: config.store.endpoint } : {}),
    ...(config.store.endpoint && localCredentials ? { credentials: localCredentials } : {}),
  });
}

/** The stores config asks for; both kinds pass the same contract suite (tests/contract). */
export function createStores(config: AppConfig, dynamoClient: () => DynamoDBClient): Stores {
  if (config.store.kind === 'memory') {
    return {
      connections: new MemoryConnectionStore(),
      requests: new MemoryRequestStore(),
      counters: new MemoryCounterStore(),
      streams: new MemoryStreamStore(),
      conversations: new MemoryConversationStore(config.conversations.retentionDays),
      prepare: () => Promise.resolve(),
    };
  }
  const client = dynamoClient();
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const { tableName, endpoint } = config.store;
  return {
    connections: new DynamoConnectionStore(db, tableName),
    requests: new DynamoRequestStore(db, tableName),
    counters: new DynamoCounterStore(db, tableName),
    streams: new DynamoStreamStore(db, tableName),
    conversations: new DynamoConversationStore(db, tableName, config.conversations.retentionDays),
    prepare: async () => {
      if (endpoint !== undefined) await ensureTable(client, tableName);
    },
  };
}

export type { ConnectionStore, ConversationStore, CounterStore, RequestStore, StreamStore };
