import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../../src/llm/chat-model';
import type { LocalGateway } from '../../src/local/emulator';
import { textOf } from '../../src/models/content';
import type { ConversationStore } from '../../src/stores/conversation-store';
import { AUDIENCE, claims, hs256, ISSUER, SECRET } from './jwt';
import { TestClient, type Frame } from './ws-client';

/**
 * What the conversation tests share: the JWT settings (a conversation is its subject's), frames
 * sent and answered over a socket, and a model that answers each call differently.
 */
export const CONVERSATION_AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, MOCK_TOKEN_DELAY_MS: '1', MOCK_ANSWER_TOKENS: '8' };

let counter = 0;
export const nextId = (prefix: string): string => `${prefix}-${(counter += 1)}`;

/** A client of `sub`, signed in as the auth settings above expect. */
export async function connectAs(local: LocalGateway, sub = 'alice'): Promise<TestClient> {
  return TestClient.connect(`${local.url}?token=${await hs256(claims({ sub }))}`);
}

/** The owner key a conversation of `sub` is kept under (what the store's reads name). */
export const ownerOf = (sub = 'alice'): string => `user:${sub}`;

/** The app's ConversationStore (the route and the worker share it): for a test to fill or read directly. */
export const conversationsOf = (local: LocalGateway): ConversationStore => local.gateway.deps.conversations;

/** Sends one frame and waits for its answer: the frames up to its end (an error, or `until`). */
export async function ask(client: TestClient, action: string, data: Record<string, unknown> | undefined, until: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame[]> {
  const requestId = nextId('q');
  const before = client.frames.length;
  client.send({ action, requestId, ...(data !== undefined ? { data } : {}) });
  await client.waitFor((frames) => frames.slice(before).some((f) => f.requestId === requestId && (f.type === 'error' || until(f))), timeoutMs, `the answer to ${action}`);
  return client.frames.slice(before).filter((f) => f.requestId === requestId);
}

/** The one frame answering a `conv/*` action (or its error). */
export const one = async (client: TestClient, action: string, data?: Record<string, unknown>): Promise<Frame> => (await ask(client, action, data, () => true)).at(-1)!;

/** A conversation's turn over `llm/stream`: the frames up to `done` (or the error). */
export const turn = async (client: TestClient, conversationId: string, text: string, extra: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<Frame[]> =>
  ask(client, 'llm/stream', { conversationId, message: { role: 'user', content: text }, ...extra }, (f) => f.type === 'done', timeoutMs);

/** `llm/stream` with other data than one new message (a regeneration, a bare edit). */
export const streamWith = async (client: TestClient, data: Record<string, unknown>): Promise<Frame[]> => ask(client, 'llm/stream', data, (f) => f.type === 'done');

export const chunkText = (frames: Frame[]): string => frames.filter((f) => f.type === 'chunk').map((f) => String(f.content)).join('');

/** Every message of a conversation through `conv/get`, page by page (oldest first). */
export async function allMessages(client: TestClient, conversationId: string, limit = 100): Promise<Frame[]> {
  const items: Frame[] = [];
  let cursor: string | undefined;
  do {
    const page = await one(client, 'conv/get', { conversationId, limit, ...(cursor !== undefined ? { cursor } : {}) });
    if (page.type !== 'messages') throw new Error(`conv/get failed: ${JSON.stringify(page)}`);
    items.push(...(page.items as Frame[]));
    cursor = page.cursor as string | undefined;
  } while (cursor !== undefined);
  return items;
}

/** A message as a short line: `m3 assistant: text` (blocks: their text, a call as `tool_use:name`, a result as `tool_result:id`). */
export function lineOf(m: Frame): string {
  const content = typeof m.content === 'string' ? m.content : (m.content as Frame[]).map((b) => (b.type === 'text' ? b.text : b.type === 'tool_use' ? `tool_use:${String(b.name)}` : `tool_result:${String(b.toolUseId)}`)).join(' + ');
  return `${String(m.messageId)} ${String(m.role)}: ${content}`;
}

/** A model message as the same short line, without an id. */
export function modelLineOf(m: ChatModelRequest['messages'][number]): string {
  const content = typeof m.content === 'string' ? m.content : m.content.map((b) => (b.type === 'text' ? b.text : b.type === 'tool_use' ? `tool_use:${b.name}` : b.type === 'tool_result' ? `tool_result:${b.toolUseId}` : b.type)).join(' + ');
  return `${m.role}: ${content}`;
}

/**
 * A model whose every answer is new: `answer <n> to <the last user text>`, in a few deltas — so a
 * regenerated answer differs from the one it replaces. Records every request it got.
 */
export class NumberedAnswers implements ChatModel {
  readonly requests: ChatModelRequest[] = [];
  private count = 0;

  constructor(private readonly delayMs = 1) {}

  async *stream(request: ChatModelRequest, signal: AbortSignal): AsyncIterable<ChatModelEvent> {
    this.requests.push(request);
    this.count += 1;
    const last = request.messages[request.messages.length - 1];
    const text = `answer ${this.count} to ${last === undefined ? '?' : textOf(last.content)}`;
    for (const piece of text.split(/(?<= )/)) {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      signal.throwIfAborted();
      yield { type: 'delta', text: piece };
    }
    yield { type: 'end', stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }, modelId: request.modelId };
  }

  /** The text the n-th answer (1-based) has for `question`. */
  static text(n: number, question: string): string {
    return `answer ${n} to ${question}`;
  }
}
