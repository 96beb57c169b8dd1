/** The warm side of the cold-start benchmark: what one invocation costs once everything is loaded. */
import messageFixture from '../tests/fixtures/events/message.json';
import { loadConfig } from '../src/config/config';
import { createGateway } from '../src/gateway';
import { MockChatModel } from '../src/llm/mock';
import { MemoryConnectionStore } from '../src/stores/memory-connection-store';
import { MemoryCounterStore } from '../src/stores/memory-counter-store';
import { MemoryRequestStore } from '../src/stores/memory-request-store';
import { MemoryStreamStore } from '../src/stores/memory-stream-store';
import type { WsEvent } from '../src/utils/lambda';
import { createLogger } from '../src/utils/logger';
import { NoMetrics } from '../src/utils/metrics';
import { percentile } from './load-client';
import { MemoryConversationStore } from '../src/stores/memory-conversation-store';

export interface WarmOverhead {
  readonly invocations: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly bareMedianUs: number;
}

/** One ping through the whole adapter (event → proxy → Fastify → handler → sender), warm. */
export async function measureWarm(): Promise<WarmOverhead> {
  const gateway = await createGateway({
    config: loadConfig({ MANAGEMENT_API_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod', JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs', LOG_LEVEL: 'silent' }),
    logger: createLogger('silent'),
    sender: { send: () => Promise.resolve() },
    connections: new MemoryConnectionStore(),
    requests: new MemoryRequestStore(),
    counters: new MemoryCounterStore(),
    conversations: new MemoryConversationStore(),
    streams: new MemoryStreamStore(),
    queue: { enqueue: () => Promise.resolve() },
    model: new MockChatModel({ tokenDelayMs: 0, answerTokens: 1 }),
    metrics: new NoMetrics(),
    attachments: undefined,
  });
  const event = messageFixture as WsEvent;
  const invocations = 20_000;
  const samples: number[] = [];
  const bare: number[] = [];
  // The floor: what any handler does for a ping (parse the frame, build the reply).
  const bareHandler = (e: WsEvent): Promise<string> => Promise.resolve(JSON.stringify({ type: 'pong', requestId: (JSON.parse(e.body ?? '{}') as { requestId?: string }).requestId, serverTime: Date.now() }));
  try {
    for (let i = 0; i < invocations + 1000; i += 1) {
      const t0 = process.hrtime.bigint();
      await gateway.handler(event);
      const t1 = process.hrtime.bigint();
      await bareHandler(event);
      const t2 = process.hrtime.bigint();
      if (i >= 1000) {
        samples.push(Number(t1 - t0) / 1000);
        bare.push(Number(t2 - t1) / 1000);
      }
    }
  } finally {
    await gateway.app.close();
  }
  return { invocations, medianUs: percentile(samples, 50), p99Us: percentile(samples, 99), bareMedianUs: percentile(bare, 50) };
}
