import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadLocalServerConfig } from '../src/config/local';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../src/llm/chat-model';
import { MockChatModel } from '../src/llm/mock';
import { startLocalGateway } from '../src/local/emulator';
import { TestClient } from '../tests/helpers/ws-client';

export interface SenderRun {
  readonly posts: number;
  /** From the client's frame to the terminal frame's arrival. */
  readonly completionMs: number;
  /** From the model's last token to the terminal frame's arrival at the client. */
  readonly lagMs: number;
  /** From the model's first token to its last (what the model itself took). */
  readonly modelMs: number;
  readonly textMatches: boolean;
}

export interface StreamingResults {
  readonly postLatencyMs: number;
  readonly tokenDelayMs: number;
  readonly answerTokens: number;
  /** Ours at each flush interval (ms), default first. */
  /** Ours at: the default (100 ms growing to 800 ms), a fixed 100 ms, a fixed 150 ms. */
  readonly ours: ReadonlyArray<{ readonly flushIntervalMs: number; readonly maxFlushIntervalMs: number; readonly run: SenderRun }>;
  readonly naive: SenderRun;
}

/** The mock model, noting when its answer started and ended. */
class TimedModel implements ChatModel {
  startedAt = 0;
  endedAt = 0;
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    this.startedAt = performance.now();
    for await (const event of this.inner.stream(request, signal)) {
      if (event.type === 'end') this.endedAt = performance.now();
      yield event;
    }
  }
}

/**
 * Our sender against a naive one-`PostToConnection`-per-token sender, in one run: the same mock
 * model (`answerTokens` at `tokenDelayMs`), the same emulator, every post delayed by
 * `postLatencyMs` (what a PostToConnection costs from Lambda), counted per connection.
 */
export async function measureStreaming(): Promise<StreamingResults> {
  const ours: Array<{ flushIntervalMs: number; maxFlushIntervalMs: number; run: SenderRun }> = [];
  let naive: SenderRun | undefined;
  for (const [flushIntervalMs, maxFlushIntervalMs] of [[100, 800], [100, 100], [150, 150]] as const) {
    const result = await measureAt(flushIntervalMs, maxFlushIntervalMs, naive === undefined);
    ours.push({ flushIntervalMs, maxFlushIntervalMs, run: result.ours });
    naive ??= result.naive;
  }
  return { postLatencyMs: POST_LATENCY_MS, tokenDelayMs: TOKEN_DELAY_MS, answerTokens: ANSWER_TOKENS, ours, naive: naive! };
}

const POST_LATENCY_MS = 20;
const TOKEN_DELAY_MS = 10;
const ANSWER_TOKENS = 500;

async function measureAt(flushIntervalMs: number, maxFlushIntervalMs: number, withNaive: boolean): Promise<{ ours: SenderRun; naive: SenderRun | undefined }> {
  const postLatencyMs = POST_LATENCY_MS;
  const tokenDelayMs = TOKEN_DELAY_MS;
  const answerTokens = ANSWER_TOKENS;
  const posts = new Map<string, number>();
  const model = new TimedModel(new MockChatModel({ tokenDelayMs, answerTokens }));
  const local = await startLocalGateway({
    server: { ...loadLocalServerConfig({}), port: 0, host: '127.0.0.1' },
    env: { LOG_LEVEL: 'silent', STREAM_FLUSH_INTERVAL_MS: String(flushIntervalMs), STREAM_FLUSH_MAX_INTERVAL_MS: String(maxFlushIntervalMs) },
    deps: { model },
    beforePost: async (connectionId) => {
      posts.set(connectionId, (posts.get(connectionId) ?? 0) + 1);
      await sleep(postLatencyMs);
      return undefined;
    },
  });
  const management = new ApiGatewayManagementApiClient({ endpoint: local.managementEndpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const prompt = 'streaming efficiency benchmark';
  const expected = (await collect(new MockChatModel({ tokenDelayMs: 0, answerTokens }), prompt)).join('');
  /** Waits for the run's terminal frame and measures it against the model's own timing. */
  const finish = async (client: TestClient, connectionId: string, requestId: string, sentAt: number): Promise<SenderRun> => {
    await client.terminal(requestId, 60_000);
    const arrived = performance.now();
    const text = client.of(requestId).filter((f) => f.type === 'chunk').map((f) => String(f.content)).join('');
    return {
      posts: posts.get(connectionId) ?? 0,
      completionMs: arrived - sentAt,
      lagMs: arrived - model.endedAt,
      modelMs: model.endedAt - model.startedAt,
      textMatches: text === expected,
    };
  };
  try {
    // Ours: through the route, the queue and the worker, as deployed.
    const before = new Set(local.connectionIds());
    const client = await TestClient.connect(local.url);
    const ourId = local.connectionIds().find((id) => !before.has(id))!;
    const sent = performance.now();
    client.send({ action: 'llm/stream', requestId: 'ours', data: { messages: [{ role: 'user', content: prompt }] } });
    const ours = await finish(client, ourId, 'ours', sent);
    await client.close();
    if (!withNaive) return { ours, naive: undefined };

    // Naive: each delta posted as it comes, each post awaited before the next (the model's stream
    // buffers meanwhile, as an HTTP/2 stream would).
    const naiveClient = await TestClient.connect(local.url);
    const naiveId = local.connectionIds().find((id) => id !== ourId)!;
    const naiveSent = performance.now();
    const buffered: string[] = [];
    let ended = false;
    let wake: () => void = () => undefined;
    const producer = (async () => {
      for await (const event of model.stream({ modelId: 'mock.echo-v1', messages: [{ role: 'user', content: prompt }], inferenceConfig: {} }, new AbortController().signal)) {
        if (event.type === 'delta') buffered.push(event.text);
        wake();
      }
      ended = true;
      wake();
    })();
    let seq = 0;
    const post = (frame: object): Promise<unknown> =>
      management.send(new PostToConnectionCommand({ ConnectionId: naiveId, Data: Buffer.from(JSON.stringify(frame)) }));
    while (!ended || buffered.length > 0) {
      const text = buffered.shift();
      if (text === undefined) await new Promise<void>((resolve) => (wake = resolve));
      else await post({ type: 'chunk', requestId: 'naive', seq: seq++, content: text });
    }
    await producer;
    await post({ type: 'done', requestId: 'naive', seq });
    const naive = await finish(naiveClient, naiveId, 'naive', naiveSent);
    await naiveClient.close();
    return { ours, naive };
  } finally {
    management.destroy();
    await local.stop();
  }
}

async function collect(model: ChatModel, prompt: string): Promise<string[]> {
  const texts: string[] = [];
  for await (const event of model.stream({ modelId: 'mock.echo-v1', messages: [{ role: 'user', content: prompt }], inferenceConfig: {} }, new AbortController().signal)) {
    if (event.type === 'delta') texts.push(event.text);
  }
  return texts;
}
