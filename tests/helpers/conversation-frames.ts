import { type TestClient, type Frame } from './ws-client';

/** Conversation frames over a raw test socket: one request, its answer's frames. */
let counter = 0;
export const nextId = (prefix: string): string => `${prefix}-${(counter += 1)}`;

/** Sends one frame and waits for its answer: the frames up to its end (an error, or the frame `until` accepts). */
export async function ask(client: TestClient, action: string, data: Record<string, unknown> | undefined, until: (f: Frame) => boolean, requestId = nextId('q')): Promise<Frame[]> {
  const before = client.frames.length;
  client.send({ action, requestId, ...(data !== undefined ? { data } : {}) });
  await client.waitFor((frames) => frames.slice(before).some((f) => f.requestId === requestId && (f.type === 'error' || until(f))), 10_000, `the answer to ${action}`);
  return client.frames.slice(before).filter((f) => f.requestId === requestId);
}

/** The (last) frame answering one `conv/*` action. */
export const one = async (client: TestClient, action: string, data?: Record<string, unknown>): Promise<Frame> => (await ask(client, action, data, () => true)).at(-1)!;

/** One streamed turn of a conversation: its frames, `done` (or the error) last. */
export const turn = async (client: TestClient, conversationId: string, text: string, extra: Record<string, unknown> = {}): Promise<Frame[]> =>
  ask(client, 'llm/stream', { conversationId, message: { role: 'user', content: text }, ...extra }, (f) => f.type === 'done');

export const textOf = (frames: Frame[]): string => frames.filter((f) => f.type === 'chunk').map((f) => String(f.content)).join('');
