import { GatewayError } from './errors.js';
import type { ContentBlock, ConversationView, MessagesFrame, MessageView, Tool, ToolChoice, Usage, ViewBlock } from './protocol.generated.js';

/** A conversation as the gateway keeps it (`conv/create`, `conv/list`, `conv/rename`). */
export type Conversation = ConversationView;

/** What `conversations.create()` keeps for every turn of the conversation (a turn's own fields win). */
export interface ConversationDefaults {
  /** ≤ 200 characters; without one, the first 80 characters of the first question. */
  readonly title?: string;
  readonly systemPrompt?: string;
  readonly modelId?: string;
  readonly tools?: Tool[];
  readonly toolChoice?: ToolChoice;
}

/**
 * A message of a conversation, whole: a message the gateway sent in parts is joined (its text
 * blocks as one text, a large tool input parsed into its `tool_use`).
 */
export interface ConversationMessage {
  /** `m` and its index: `m0`, `m1`… (growing, with gaps where an edit or a regeneration removed messages). */
  readonly messageId: string;
  readonly role: 'user' | 'assistant';
  readonly content: string | ContentBlock[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** The request that wrote it. */
  readonly requestId: string;
  /** An answer's end: `complete`, or cut short — `cancelled`, `failed`, `interrupted` — holding what was sent. */
  readonly status?: 'complete' | 'cancelled' | 'failed' | 'interrupted';
  readonly usage?: Usage;
  readonly modelId?: string;
  readonly stopReason?: string;
}

/** A page of `conversations.get()`. */
export interface MessagesPage {
  readonly items: ConversationMessage[];
  /** Pass it back (with the same `order`) for the next page; absent on the last. */
  readonly cursor?: string;
  /** The answer the conversation runs now: `conversations.resume()` picks it up. */
  readonly running?: { readonly requestId: string };
}

/** A page of `conversations.list()`, newest first. */
export interface ConversationsPage {
  readonly items: Conversation[];
  readonly cursor?: string;
}

/** The pieces of a message sent in parts, joined in order: see MessagesFrame. */
function joinBlocks(pieces: ReadonlyArray<MessageView['content']>, requestId: string): ContentBlock[] {
  const blocks: ViewBlock[] = pieces.flatMap((content) => (typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content));
  const joined: ContentBlock[] = [];
  const inputs = new Map<string, string[]>();
  for (const block of blocks) {
    const last = joined[joined.length - 1];
    if (block.type === 'tool_input') {
      const list = inputs.get(block.toolUseId);
      if (list === undefined) throw new GatewayError('protocol_error', `A tool_input piece of "${block.toolUseId}" came before its tool_use.`, { requestId });
      list.push(block.inputDelta);
    } else if (block.type === 'text' && last?.type === 'text') {
      joined[joined.length - 1] = { type: 'text', text: last.text + block.text };
    } else if (block.type === 'tool_result' && last?.type === 'tool_result' && last.toolUseId === block.toolUseId) {
      // A result too large for one frame comes as consecutive pieces of the same result.
      const text = (content: typeof block.content): string => (typeof content === 'string' ? content : content.map((part) => part.text).join(''));
      joined[joined.length - 1] = { ...last, content: text(last.content) + text(block.content) };
    } else if (block.type === 'tool_use' && 'inputOmitted' in block) {
      const { inputOmitted: _omitted, ...use } = block;
      inputs.set(block.toolUseId, []);
      joined.push(use);
    } else {
      joined.push(block);
    }
  }
  for (const [toolUseId, pieces] of inputs) {
    const at = joined.findIndex((block) => block.type === 'tool_use' && block.toolUseId === toolUseId);
    let input: unknown;
    try {
      input = JSON.parse(pieces.join(''));
    } catch {
      input = undefined;
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new GatewayError('protocol_error', `The input of the tool call "${toolUseId}" sent in pieces does not parse as a JSON object.`, { requestId });
    joined[at] = { ...(joined[at] as Extract<ContentBlock, { type: 'tool_use' }>), input: input as Record<string, unknown> };
  }
  return joined;
}

function messageOf(view: MessageView, content: ConversationMessage['content']): ConversationMessage {
  const { content: _content, ...rest } = view;
  return { ...rest, content };
}

/**
 * The frames answering one `conv/get`, as a page: whole messages as they came; a message the
 * gateway sent in parts (`part`, `parts`: one piece of its content each) joined into one.
 */
export function pageOf(frames: readonly MessagesFrame[], requestId: string): MessagesPage {
  const last = frames[frames.length - 1];
  if (last === undefined) throw new GatewayError('protocol_error', 'conv/get was answered by no messages frame.', { requestId });
  let items: ConversationMessage[];
  if (last.parts === undefined || last.parts <= 1) {
    // Whole messages, as they were kept (a tool input in pieces only ever comes with parts; checked anyway).
    const whole = (content: ViewBlock[]): content is ContentBlock[] => content.every((block) => block.type !== 'tool_input' && !('inputOmitted' in block));
    items = last.items.map((view) => messageOf(view, typeof view.content === 'string' || whole(view.content) ? view.content : joinBlocks([view.content], requestId)));
  } else {
    const parts = [...frames].sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
    const first = parts[0]?.items[0];
    if (parts.length !== last.parts || first === undefined) throw new GatewayError('protocol_error', `A message sent in ${last.parts} parts came in ${parts.length}.`, { requestId });
    items = [messageOf(first, joinBlocks(parts.map((frame) => frame.items[0]?.content ?? []), requestId))];
  }
  const running = frames.find((frame) => frame.running !== undefined)?.running;
  return { items, ...(last.cursor !== undefined ? { cursor: last.cursor } : {}), ...(running !== undefined ? { running } : {}) };
}
