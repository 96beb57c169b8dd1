import type { AppConfig } from '../config/config';
import { estimatePromptTokens } from '../llm/tokens';
import { GatewayError, toGatewayError } from '../models/errors';
import type { JobConversation, JobRequest } from '../models/job';
import type { ChatMessage, ChatRequestFrame } from '../models/protocol';
import type { CounterStore } from '../stores/counter-store';
import { conversationBytesKey, FOREVER, messageBytes } from './conversation-bytes';
import { titleOf } from './conversation-title';
import { answersTo } from './tool-answers';
import type { ConversationMeta, ConversationRun, ConversationStore } from '../stores/conversation-store';

/** What the route needs of a turn, whatever kind: the model's request (as far as the route knows it), its token estimate, and what undoes it. */
export interface TurnPlan {
  readonly request: JobRequest;
  readonly inputTokens: number;
  readonly conversation?: JobConversation;
  /** Gives back what planning took (a conversation's running answer), for a request then refused. */
  readonly undo: () => Promise<void>;
}

const invalid = (detail: string): GatewayError => new GatewayError('invalid_request', `Invalid request: ${detail}.`);

/**
 * A new turn of a conversation kept on the server (v1 addition), as the route plans it: the
 * conversation taken for this answer (one at a time) with the message indexes it will write,
 * the turn checked against what the history expects (tool results answer exactly the last
 * answer's calls), the conversation's defaults under the frame's own fields, and the token estimate
 * — the history as the last turn measured it, plus what is new. The worker reads the history.
 */
export class ConversationTurns {
  constructor(
    private readonly conversations: ConversationStore,
    private readonly config: Pick<AppConfig, 'defaultModelId' | 'requestTtlSeconds' | 'models' | 'conversations'>,
    private readonly counters: CounterStore,
  ) {}

  async plan(owner: string, frame: ChatRequestFrame, run: Omit<ConversationRun, 'until'>, nowMs: number): Promise<TurnPlan> {
    const data = frame.data;
    const conversationId = data.conversationId!;
    const kind: JobConversation['kind'] = data.regenerate === true ? 'regenerate' : data.editFrom !== undefined ? 'edit' : 'send';
    // The user message and the answer each take an index; a regeneration only the answer.
    const reserve = kind === 'regenerate' ? 1 : 2;
    // A conversation made without a title takes its first words (in the same write).
    const title = kind === 'regenerate' ? undefined : titleOf(data.message);
    // The owner's bytes are checked beside the begin, not after it: no serial round trip of its own.
    const [begun, bytes] = await Promise.all([
      this.conversations.begin(owner, conversationId, { ...run, until: nowMs + this.config.requestTtlSeconds * 1000 }, reserve, nowMs, title),
      this.checkBytes(owner, data.message).then(
        () => undefined,
        (error: unknown) => toGatewayError(error),
      ),
    ]);
    if (begun.outcome === 'unknown') throw new GatewayError('not_found', `Conversation "${conversationId}" does not exist (or is not yours).`);
    if (begun.outcome === 'busy') {
      throw new GatewayError('conversation_busy', `Conversation "${conversationId}" is answering another message; send this one when it ends (or cancel it).`, { retryable: true, retryAfterMs: 1000 });
    }
    const undo = (): Promise<void> => this.conversations.abandon(owner, conversationId, run.jobId);
    try {
      if (bytes !== undefined) throw bytes;
      this.checkTurn(begun.meta, kind, data.message);
      const request = this.requestOf(begun.meta, frame);
      const added = estimatePromptTokens({ messages: request.messages });
      // The first turn pays for the system prompt and the tools; later ones have them in the history's count.
      const framing = begun.meta.historyTokens === 0 ? estimatePromptTokens({ messages: [], ...(request.systemPrompt ? { systemPrompt: request.systemPrompt } : {}), ...(request.tools ? { tools: request.tools } : {}) }) : 0;
      // The worker leaves the oldest turns out past the model's context window: never estimate beyond it.
      const window = (this.config.models[request.modelId]?.contextTokens ?? Number.MAX_SAFE_INTEGER) - (request.inferenceConfig.maxTokens ?? 0);
      const inputTokens = Math.max(added, Math.min(begun.meta.historyTokens + added + framing, window));
      const editFrom = data.editFrom === undefined ? undefined : Number(data.editFrom.slice(1));
      return { request, inputTokens, conversation: { conversationId, firstIndex: begun.firstIndex, kind, ...(editFrom !== undefined ? { editFrom } : {}), ...(begun.meta.historyTokens > 0 ? { historyTokens: begun.meta.historyTokens } : {}) }, undo };
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The owner's conversations may hold MAX_CONVERSATION_BYTES_PER_USER: checked before a turn
   * with its message (a zero add that fits only if the message would), the answer counted when it
   * is kept — so a turn is never cut for its answer's size, and the limit is soft by one answer.
   */
  private async checkBytes(owner: string, message: ChatMessage | undefined): Promise<void> {
    const max = this.config.conversations.maxBytesPerUser;
    if (max === 0 || message === undefined) return;
    const room = max - messageBytes(message);
    if (room < 0 || !(await this.counters.tryAdd(conversationBytesKey(owner), 0, room, FOREVER)).ok) {
      throw new GatewayError('rate_limited', `Your conversations hold the most this gateway keeps per user (${max} bytes): delete a conversation to go on.`, { retryable: false });
    }
  }

  /** The turn against the history it continues: the last answer's tool calls are answered, and only they. */
  private checkTurn(meta: ConversationMeta, kind: JobConversation['kind'], message: ChatMessage | undefined): void {
    if (kind === 'regenerate') {
      if (meta.messageCount === 0) throw invalid('data.regenerate: the conversation has no answer to give again');
      return;
    }
    // An edit drops what followed the message it replaces: the calls pending now are not its to answer.
    if (kind === 'edit') return;
    const { missing, stray } = answersTo(meta.pendingToolUseIds, message);
    if (stray.length > 0) throw invalid(`data.message has a tool_result for "${stray[0]}", which answers no call of the conversation's last answer`);
    if (missing.length > 0) throw invalid(`data.message must answer every tool call of the conversation's last answer with a tool_result: missing "${missing.join('", "')}"`);
  }

  /** The conversation's defaults under the frame's own fields; the messages are what the turn adds. */
  private requestOf(meta: ConversationMeta, frame: ChatRequestFrame): JobRequest {
    const { defaults } = meta;
    const data = frame.data;
    const systemPrompt = data.systemPrompt ?? defaults.systemPrompt;
    const tools = data.tools ?? defaults.tools;
    const toolChoice = data.toolChoice ?? defaults.toolChoice;
    return {
      modelId: data.modelId ?? defaults.modelId ?? this.config.defaultModelId,
      messages: data.message !== undefined ? [data.message] : [],
      inferenceConfig: data.inferenceConfig ?? defaults.inferenceConfig ?? {},
      ...(systemPrompt !== undefined ? { systemPrompt } : {}),
      ...(tools !== undefined ? { tools: [...tools] } : {}),
      ...(toolChoice !== undefined ? { toolChoice } : {}),
    };
  }
}
