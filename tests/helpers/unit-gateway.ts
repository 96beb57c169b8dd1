import type { AppDeps } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import type { Env } from '../../src/config/env';
import { createGateway, type Gateway } from '../../src/gateway';
import { MockChatModel } from '../../src/llm/mock';
import { MemoryConnectionStore } from '../../src/stores/memory-connection-store';
import { MemoryCounterStore } from '../../src/stores/memory-counter-store';
import { MemoryRequestStore } from '../../src/stores/memory-request-store';
import { MemoryStreamStore } from '../../src/stores/memory-stream-store';
import { createLogger } from '../../src/utils/logger';
import { DirectQueue } from './direct-queue';
import { RecordingMetrics } from './recording-metrics';
import { RecordingSender } from './recording-sender';
import { MemoryConversationStore } from '../../src/stores/memory-conversation-store';

export const UNIT_ENV: Env = {
  MANAGEMENT_API_ENDPOINT: 'https://abcd1234ef.execute-api.us-east-1.amazonaws.com/prod',
  JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  LOG_LEVEL: 'silent',
};

export interface UnitGateway {
  readonly gateway: Gateway;
  readonly sender: RecordingSender;
  readonly queue: DirectQueue;
  readonly metrics: RecordingMetrics;
  readonly connections: MemoryConnectionStore;
  readonly requests: MemoryRequestStore;
  readonly counters: MemoryCounterStore;
  readonly streams: MemoryStreamStore;
  readonly conversations: MemoryConversationStore;
}

/**
 * The gateway on in-memory stand-ins, for unit tests fed AWS-shaped events: a sender that
 * records frames, a queue that hands each job straight to the worker entry, the mock model.
 */
export async function createUnitGateway(env: Env = {}, deps: Partial<AppDeps> = {}): Promise<UnitGateway> {
  const parts = {
    sender: new RecordingSender(),
    queue: new DirectQueue(),
    metrics: new RecordingMetrics(),
    connections: new MemoryConnectionStore(),
    requests: new MemoryRequestStore(),
    counters: new MemoryCounterStore(),
    streams: new MemoryStreamStore(),
    conversations: new MemoryConversationStore(),
  };
  const gateway = await createGateway({
    config: loadConfig({ ...UNIT_ENV, ...env }),
    logger: createLogger('silent'),
    model: new MockChatModel({ tokenDelayMs: 0, answerTokens: 12 }),
    attachments: undefined,
    ...parts,
    ...deps,
  });
  parts.queue.attach(gateway.worker);
  return { gateway, ...parts };
}
