import type { AppConfig } from '../config/config';
import { MAX_TERMINAL_BYTES } from '../delivery/terminal-fit';
import { messageParts } from '../delivery/message-parts';
import type { Caller } from '../models/caller';
import { newConversationId } from '../models/conversation-id';
import { GatewayError } from '../models/errors';
import type { ConvCreateFrame, ConvDeleteFrame, ConvGetFrame, ConvListFrame, ConvRenameFrame } from '../models/protocol';
import type { ConversationFrame, ConversationsFrame, DeletedFrame, MessagesFrame, MessageView } from '../models/server-frames';
import { checkDepths } from '../models/validate-depth';
import { checkTools } from '../models/validate-content';
import type { ConversationStore } from '../stores/conversation-store';
import type { CounterStore } from '../stores/counter-store';
import type { StreamStore } from '../stores/stream-store';
import type { AttachmentStore } from '../attachments/attachment-store';
import { ConversationAttachments } from './conversation-attachments';
import { conversationBytesKey, conversationCountKey, FOREVER } from './conversation-bytes';
import { conversationView, messageView } from './conversation-views';
import { subjectKey } from './rate-limit';

export interface ConversationServiceDeps {
  readonly config: Pick<AppConfig, 'allowedModelIds' | 'conversations'>;
  readonly conversations: ConversationStore;
  readonly counters: CounterStore;
  readonly streams: StreamStore;
  /** Where the attachments a conversation keeps live (absent: attachments are off). */
  readonly attachments: AttachmentStore | undefined;
  readonly now?: () => number;
}

const notFound = (conversationId: string): GatewayError => new GatewayError('not_found', `Conversation "${conversationId}" does not exist (or is not yours).`);

/**
 * The `conv/*` actions (v1 addition): a user's conversations kept on the server — made, listed
 * newest first, read a page at a time (a page never exceeds one frame; a message too large for
 * one comes in parts), renamed and deleted with everything in them. A conversation is its
 * owner's alone (the JWT's subject, else the source IP): another's reads exactly like an
 * unknown one. Nothing of a conversation's content is ever logged.
 */
export class ConversationService {
  private readonly now: () => number;
  private readonly kept: ConversationAttachments;

  constructor(private readonly deps: ConversationServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.kept = new ConversationAttachments(deps.attachments);
  }

  async create(caller: Caller, frame: ConvCreateFrame, requestId: string): Promise<ConversationFrame> {
    const { conversations, counters, config } = this.deps;
    const defaults = frame.data ?? {};
    if (defaults.modelId !== undefined && !config.allowedModelIds.includes(defaults.modelId)) {
      throw new GatewayError('model_not_allowed', `Model "${defaults.modelId}" is not allowed. Allowed models: ${config.allowedModelIds.join(', ')}.`);
    }
    checkDepths({ ...(defaults.tools ? { tools: defaults.tools } : {}) });
    checkTools({ ...(defaults.tools ? { tools: defaults.tools } : {}), ...(defaults.toolChoice ? { toolChoice: defaults.toolChoice } : {}) });
    const owner = subjectKey(caller);
    const { maxPerUser } = config.conversations;
    if (maxPerUser > 0 && !(await counters.tryAdd(conversationCountKey(owner), 1, maxPerUser, FOREVER)).ok) {
      throw new GatewayError('rate_limited', `At most ${maxPerUser} conversations may be kept per user: delete one first.`, { retryable: false });
    }
    const now = this.now();
    const { title, ...kept } = defaults;
    const meta = {
      conversationId: newConversationId(now),
      owner,
      title: title ?? '',
      createdAt: now,
      updatedAt: now,
      messageCount: 0,
      nextIndex: 0,
      lastModelId: undefined,
      defaults: kept,
      historyTokens: 0,
      pendingToolUseIds: [],
      running: undefined,
      bytes: 0,
    };
    await conversations.create(meta);
    return { type: 'conversation', requestId, conversation: conversationView(meta, now) };
  }

  async list(caller: Caller, frame: ConvListFrame, requestId: string): Promise<ConversationsFrame> {
    const page = await this.deps.conversations.list(subjectKey(caller), { limit: frame.data?.limit ?? 20, ...(frame.data?.cursor ? { cursor: frame.data.cursor } : {}) });
    const now = this.now();
    return { type: 'conversations', requestId, items: page.items.map((meta) => conversationView(meta, now)), ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  /**
   * A page of messages, in as many frames as it takes: whole messages while they fit one frame
   * (the page then ends early, its cursor after the last one sent), and a message too large for
   * one alone, in parts.
   */
  async get(caller: Caller, frame: ConvGetFrame, requestId: string): Promise<MessagesFrame[]> {
    const { conversationId } = frame.data;
    const meta = await this.deps.conversations.get(subjectKey(caller), conversationId);
    if (meta === undefined) throw notFound(conversationId);
    const cursor = frame.data.cursor;
    if (cursor !== undefined && !/^\d{1,9}$/.test(cursor)) throw new GatewayError('invalid_request', 'Invalid request: data.cursor must be the cursor a previous page gave.');
    const page = await this.deps.conversations.messages(conversationId, { limit: frame.data.limit ?? 20, order: frame.data.order ?? 'oldest', ...(cursor !== undefined ? { cursor } : {}) });
    const view = conversationView(meta, this.now());
    const base = { type: 'messages' as const, requestId, conversationId, ...(view.running ? { running: view.running } : {}) };
    const frameOf = (items: MessageView[], next?: string): MessagesFrame => ({ ...base, items, ...(next !== undefined ? { cursor: next } : {}) });
    const fits = (items: MessageView[]): boolean => Buffer.byteLength(JSON.stringify(frameOf(items, '999999999'))) <= MAX_TERMINAL_BYTES;
    const items = page.items.map(messageView);
    const sent: MessageView[] = [];
    for (const item of items) {
      if (!fits([...sent, item])) break;
      sent.push(item);
    }
    if (sent.length > 0) {
      const last = page.items[sent.length - 1]!;
      return [frameOf(sent, sent.length < items.length ? String(last.index) : page.cursor)];
    }
    const first = items[0];
    if (first === undefined) return [frameOf([])];
    // One message larger than a frame: it alone, in parts.
    const after = items.length > 1 ? String(page.items[0]!.index) : page.cursor;
    const pieces = messageParts(first, MAX_TERMINAL_BYTES, (content) => ({ ...frameOf([{ ...first, content }], '999999999'), part: 999_999, parts: 999_999 }));
    return pieces.map((content, part) => ({ ...frameOf([{ ...first, content }], part === pieces.length - 1 ? after : undefined), part, parts: pieces.length }));
  }

  async rename(caller: Caller, frame: ConvRenameFrame, requestId: string): Promise<ConversationFrame> {
    const { conversationId, title } = frame.data;
    const owner = subjectKey(caller);
    if (!(await this.deps.conversations.rename(owner, conversationId, title, this.now()))) throw notFound(conversationId);
    const meta = await this.deps.conversations.get(owner, conversationId);
    if (meta === undefined) throw notFound(conversationId);
    return { type: 'conversation', requestId, conversation: conversationView(meta, this.now()) };
  }

  /** Deletes it with its messages; an answer it runs is stopped (it can then neither be resumed nor add to it). */
  async delete(caller: Caller, frame: ConvDeleteFrame, requestId: string): Promise<DeletedFrame> {
    const { conversationId } = frame.data;
    const owner = subjectKey(caller);
    const meta = await this.deps.conversations.get(owner, conversationId);
    if (meta === undefined) throw notFound(conversationId);
    // Its attachments first: should that fail, the conversation is still there to delete again,
    // and nothing it kept is left behind unreferenced. (An answer still running removes what it
    // copied since, when it finds the conversation gone.)
    const attachments = await this.kept.removeAll(owner, conversationId);
    if (!(await this.deps.conversations.delete(owner, conversationId))) throw notFound(conversationId);
    caller.log.info({ conversationId, attachments }, 'conversation deleted');
    if (meta.running !== undefined) await this.deps.streams.cancel(meta.running.streamKey).catch(() => undefined);
    if (this.deps.config.conversations.maxPerUser > 0) await this.deps.counters.release(conversationCountKey(owner), 1).catch(() => undefined);
    if (meta.bytes > 0) await this.deps.counters.release(conversationBytesKey(owner), meta.bytes).catch(() => undefined);
    return { type: 'deleted', requestId, conversationId };
  }
}
