import type { ContentBlock, InferenceConfig, Tool, ToolChoice } from '../models/protocol';
import type { Usage } from '../models/server-frames';

/** What a conversation keeps for its turns unless a request says otherwise. */
export interface ConversationDefaults {
  readonly systemPrompt?: string;
  readonly modelId?: string;
  readonly inferenceConfig?: InferenceConfig;
  readonly tools?: readonly Tool[];
  readonly toolChoice?: ToolChoice;
}

/** The answer a conversation is running now: one at a time, until `until` (epoch ms) at the latest. */
export interface ConversationRun {
  readonly requestId: string;
  readonly jobId: string;
  /** The answer's stream (a hash of its resume token): how its owner resumes it by the conversation. */
  readonly streamKey: string;
  readonly until: number;
}

/** A conversation as its item holds it (never its messages). */
export interface ConversationMeta {
  readonly conversationId: string;
  /** Whose it is: the subject key of the caller that made it (the JWT's subject, else the source IP). */
  readonly owner: string;
  readonly title: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Messages in the conversation now. */
  readonly messageCount: number;
  /** The index the next reserved message gets: indexes only grow, so a skipped one is a gap, never a reuse. */
  readonly nextIndex: number;
  readonly lastModelId: string | undefined;
  readonly defaults: ConversationDefaults;
  /**
   * The tokens the model read and wrote in the last turn (as it reported them, else estimated):
   * what the next turn's prompt is, before its new message — its token reservation reads this.
   */
  readonly historyTokens: number;
  /** The tool calls of the last assistant turn that the next user turn must answer. */
  readonly pendingToolUseIds: readonly string[];
  readonly running: ConversationRun | undefined;
  /** Bytes its messages hold (their content as JSON): what it counts toward its owner's limit. */
  readonly bytes: number;
}

/** How an assistant turn ended: whole, or cut short — what it holds is what the client saw. */
export type TurnStatus = 'complete' | 'cancelled' | 'failed' | 'interrupted';

/** One message of a conversation, as stored. */
export interface StoredMessage {
  /** Its place in the conversation; messages sort by it. */
  readonly index: number;
  readonly role: 'user' | 'assistant';
  readonly content: string | readonly ContentBlock[];
  readonly createdAt: number;
  /** The request and job that wrote it: writing it again for the same job changes nothing. */
  readonly requestId: string;
  readonly jobId: string;
  /** Assistant turns: how it ended, what it used, who answered, why it stopped. */
  readonly status?: TurnStatus;
  readonly usage?: Usage;
  readonly modelId?: string;
  readonly stopReason?: string;
}

/** A page of a listing and where the next one starts (absent: the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly cursor: string | undefined;
}

/** What a finished turn changes on the conversation. */
export interface TurnEnd {
  /** Messages this turn added (0 for one whose messages were there already: a redelivery). */
  readonly added: number;
  /** Messages it took away (an edit or a regeneration). */
  readonly removed: number;
  readonly historyTokens: number;
  readonly lastModelId: string | undefined;
  readonly pendingToolUseIds: readonly string[];
  readonly updatedAt: number;
  /** Bytes the turn's messages added, less those it removed (0 when absent). */
  readonly bytes?: number;
}

export type BeginOutcome =
  | { readonly outcome: 'begun'; readonly meta: ConversationMeta; readonly firstIndex: number }
  | { readonly outcome: 'busy'; readonly meta: ConversationMeta }
  | { readonly outcome: 'unknown' };

/**
 * Conversations kept for their owner: one item per conversation, one per message in index order
 * (a message too large for one item is split across several; the contract never shows it). Every
 * read names the owner, so another user's conversation reads exactly like an unknown one.
 */
export interface ConversationStore {
  /** Records a new conversation (ids are unguessable and never reused). */
  create(meta: ConversationMeta): Promise<void>;
  get(owner: string, conversationId: string): Promise<ConversationMeta | undefined>;
  /** The owner's conversations, newest first, `limit` a page. */
  list(owner: string, options: { readonly limit: number; readonly cursor?: string }): Promise<Page<ConversationMeta>>;
  /** Renames it; false when unknown. */
  rename(owner: string, conversationId: string, title: string, nowMs: number): Promise<boolean>;
  /**
   * Takes the conversation for one answer and reserves `reserve` message indexes for it, in one
   * conditional write — refused (`busy`) while another answer runs there (until its `until`).
   * Returns the conversation as it now is. `title` names it when it has no title yet (its first
   * message's words), in the same write.
   */
  begin(owner: string, conversationId: string, run: ConversationRun, reserve: number, nowMs: number, title?: string): Promise<BeginOutcome>;
  /** Gives the conversation back after a begin whose request was then refused (nothing was written). */
  abandon(owner: string, conversationId: string, jobId: string): Promise<void>;
  /** Writes one message at its index; writing again what the same job wrote changes nothing. Returns whether it was new. */
  append(conversationId: string, message: StoredMessage): Promise<boolean>;
  /** Messages by index, oldest first from `cursor` or newest first, `limit` a page. */
  messages(conversationId: string, options: { readonly limit: number; readonly cursor?: string; readonly order: 'oldest' | 'newest' }): Promise<Page<StoredMessage>>;
  /** Every message, oldest first (the worker's history; pages read until the end). */
  history(conversationId: string): Promise<StoredMessage[]>;
  /** Removes messages by index (an edit drops what followed; a regeneration its last answer). */
  remove(conversationId: string, indexes: readonly number[]): Promise<void>;
  /** Ends the running answer `jobId` with what it changed; nothing when another (or none) runs there. Returns whether it ended it. */
  finish(owner: string, conversationId: string, jobId: string, end: TurnEnd): Promise<boolean>;
  /** Removes the conversation and every message; false when unknown. */
  delete(owner: string, conversationId: string): Promise<boolean>;
}
