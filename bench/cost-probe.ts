/**
 * The cost bench's instruments on the reader's side: a socket that notes when each frame arrived,
 * a model that notes when it made each character, and the mean lag between the two. Copied with
 * bench/cost.ts into the previous version for its "before" column: imports only what both have.
 */
import WebSocket from 'ws';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../src/llm/chat-model';

export interface Arrival {
  readonly at: number;
  readonly frame: Record<string, unknown>;
}

/** A socket that notes when each frame arrived. */
export interface Probe {
  readonly frames: Arrival[];
  send(data: unknown): void;
  /** The first frame (arrived or to come) that passes `test`. */
  until(test: (f: Record<string, unknown>) => boolean): Promise<Arrival>;
  close(): void;
}

export async function probe(url: string): Promise<Probe> {
  const socket = new WebSocket(url);
  const frames: Arrival[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data: Buffer) => {
    frames.push({ at: performance.now(), frame: JSON.parse(data.toString('utf8')) as Record<string, unknown> });
    waiters.splice(0).forEach((wake) => wake());
  });
  await new Promise((ok, fail) => socket.once('open', ok).once('error', fail));
  const until = async (test: (f: Record<string, unknown>) => boolean): Promise<Arrival> => {
    for (;;) {
      const found = frames.find((a) => test(a.frame));
      if (found) return found;
      await new Promise<void>((wake) => waiters.push(wake));
    }
  };
  return { frames, send: (data) => socket.send(JSON.stringify(data)), until, close: () => socket.terminate() };
}

/** The mock model, noting when it made each character of its answers. */
export class TimedModel implements ChatModel {
  made: Array<{ at: number; chars: number }> = [];
  endedAt = 0;
  constructor(private readonly inner: ChatModel) {}
  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    let chars = 0;
    for await (const event of this.inner.stream(request, signal)) {
      if (event.type === 'delta') this.made.push({ at: performance.now(), chars: (chars += event.text.length) });
      if (event.type === 'end') this.endedAt = performance.now();
      yield event;
    }
  }
}

/** Mean over characters of (arrived at the client − made by the model). */
export function meanLag(made: ReadonlyArray<{ at: number; chars: number }>, chunks: readonly Arrival[]): number {
  let total = 0;
  let chars = 0;
  let m = 0;
  for (const chunk of chunks) {
    for (let c = typeof chunk.frame.content === 'string' ? chunk.frame.content.length : 0; c > 0; c -= 1) {
      chars += 1;
      // The model made character `chars` with the first delta that reached it.
      while (m < made.length - 1 && made[m]!.chars < chars) m += 1;
      total += chunk.at - (made[m]?.at ?? chunk.at);
    }
  }
  return chars === 0 ? Number.NaN : total / chars;
}
