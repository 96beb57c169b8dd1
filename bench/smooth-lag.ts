/**
 * What the reader sees of the flush cadence: the typical answer (500 tokens at 20 ms) through the
 * client package, its text shown as it arrives and through `smoothEvents`, on the emulator. For
 * every character: when it is shown − when the model made it (the reader's lag); and every pause
 * between two updates of the shown text (how evenly it flows).
 */
import NodeWebSocket from 'ws';
import { GatewayClient, smoothEvents, type StreamEvent } from '../client/src/index.js';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../src/llm/chat-model';
import { MockChatModel } from '../src/llm/mock';
import { loadLocalServerConfig } from '../src/config/local';
import { startLocalGateway } from '../src/local/emulator';

export interface ShownRun {
  /** Mean over characters: shown − made by the model (ms). */
  readonly meanLagMs: number;
  /** Every pause between two updates of the shown text (ms). */
  readonly gapsMs: number[];
  /** The last character shown − the model's last (ms). */
  readonly endLagMs: number;
}

export interface SmoothLagResults {
  readonly raw: ShownRun[];
  readonly smooth: ShownRun[];
}

class TimedModel implements ChatModel {
  made: number[] = [];
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    for await (const event of this.inner.stream(request, signal)) {
      if (event.type === 'delta') for (let c = 0; c < event.text.length; c += 1) this.made.push(performance.now());
      yield event;
    }
  }
}

export async function measureSmoothLag(rounds = 2): Promise<SmoothLagResults> {
  const model = new TimedModel(new MockChatModel({ tokenDelayMs: 20, answerTokens: 500 }));
  const local = await startLocalGateway({ server: loadLocalServerConfig({ PORT: '0', HOST: '127.0.0.1' }), env: { LOG_LEVEL: 'silent', RATE_LIMIT_REQUESTS_PER_MINUTE: '10000' }, deps: { model } });
  const client = new GatewayClient({ url: local.url, WebSocket: NodeWebSocket });
  const show = async (smooth: boolean): Promise<ShownRun> => {
    model.made = [];
    const stream = client.stream({ messages: [{ role: 'user', content: 'a typical question' }] });
    const events: AsyncIterable<StreamEvent> = smooth ? smoothEvents(stream.events()) : stream.events();
    const shown: number[] = [];
    const updates: number[] = [];
    for await (const event of events) {
      if (event.type !== 'text') continue;
      const now = performance.now();
      updates.push(now);
      for (let c = 0; c < event.text.length; c += 1) shown.push(now);
    }
    await stream.done;
    const lag = shown.reduce((total, at, c) => total + at - (model.made[c] ?? at), 0) / shown.length;
    const lastShown = shown[shown.length - 1] ?? 0;
    const lastMade = model.made[model.made.length - 1] ?? lastShown;
    return { meanLagMs: lag, gapsMs: updates.slice(1).map((at, i) => at - updates[i]!), endLagMs: lastShown - lastMade };
  };
  try {
    await client.connect();
    await show(false);
    const raw: ShownRun[] = [];
    const smooth: ShownRun[] = [];
    for (let i = 0; i < rounds; i += 1) {
      raw.push(await show(false));
      smooth.push(await show(true));
    }
    return { raw, smooth };
  } finally {
    await client.close();
    await local.stop();
  }
}
