import type { AppConfig } from '../config/config';
import { fitHistory, turnsOf } from '../generation/conversation-history';
import { estimatePromptTokens } from '../llm/tokens';
import { messageIdOf } from '../models/conversation-id';
import { GatewayError } from '../models/errors';
import type { Job, JobRequest } from '../models/job';
import type { ContentBlock } from '../models/protocol';
import type { TurnKept, ToolUse, Usage } from '../models/server-frames';
import type { ConversationStore, StoredMessage, TurnStatus } from '../stores/conversation-store';

/** A conversation's turn as the worker runs it: the model's whole request, and where the turn is kept. */
export interface OpenTurn {
  readonly request: JobRequest;
  readonly kept: TurnKept;
  /** The answer's index, and how many messages this turn added (the user's) and took away so far. */
  readonly assistantIndex: number;
  readonly added: number;
  readonly removed: number;
}

/** How the answer ended, for what is kept of it. */
export interface TurnOutcome {
  readonly status: TurnStatus;
  readonly text: string;
  readonly toolUses: readonly ToolUse[];
  readonly usage: Usage | undefined;
  readonly modelId: string | undefined;
  readonly stopReason: string | undefined;
}

/** A turn the worker refuses before it writes anything: the conversation is given back as it was, no answer kept. */
export class TurnRefusal extends GatewayError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

/** The room the answer takes in the context window when the request names no maxTokens. */
const DEFAULT_ANSWER_ROOM = 4096;

/**
 * The worker's side of a conversation's turn (jobs of version 2). Before the model call: the
 * history read, an edit's or a regeneration's removals made, the user message written at the
 * index the route reserved, and the model's request built from the history — the oldest exchanges
 * left out when it would not fit the model's context window. At the end — before the terminal
 * frame, like the limits — the answer written at its index (as far as it got, when cut short) and
 * the conversation's running answer ended. Each write is keyed by index and job, so a redelivered
 * job writes nothing twice and a crash loses nothing that was written.
 */
export class ConversationRuns {
  constructor(
    private readonly conversations: ConversationStore,
    private readonly config: Pick<AppConfig, 'models'>,
  ) {}

  async open(job: Job): Promise<OpenTurn> {
    const turn = job.conversation!;
    const { conversationId, firstIndex, kind } = turn;
    let stored = await this.conversations.history(conversationId);
    // What the turn replaces goes first: an edit drops the message it edits and all after it, a
    // regeneration the answers after the last user message. (Again after a redelivery: nothing is left to drop.)
    const drop = kind === 'edit' ? stored.filter((m) => m.index >= turn.editFrom! && m.index < firstIndex) : kind === 'regenerate' ? stored.slice(lastUserAt(stored) + 1).filter((m) => m.index < firstIndex) : [];
    if (kind === 'edit' && stored.find((m) => m.index === turn.editFrom)?.role !== 'user' && !stored.some((m) => m.index === firstIndex)) {
      throw new TurnRefusal(`Invalid request: data.editFrom must name a user message of the conversation ("${messageIdOf(turn.editFrom!)}" is none).`);
    }
    if (drop.length > 0) await this.conversations.remove(conversationId, drop.map((m) => m.index));
    stored = stored.filter((m) => !drop.includes(m));
    let added = 0;
    const assistantIndex = kind === 'regenerate' ? firstIndex : firstIndex + 1;
    const user = job.request.messages[0];
    if (kind !== 'regenerate' && user !== undefined) {
      const message: StoredMessage = { index: firstIndex, role: 'user', content: user.content, createdAt: job.receivedAt, requestId: job.requestId, jobId: job.jobId };
      if (await this.conversations.append(conversationId, message)) added = 1;
      if (!stored.some((m) => m.index === firstIndex)) stored = [...stored, message];
    }
    // A redelivery finds its own answer written already: the history the model reads stops before it.
    const turns = turnsOf(stored.filter((m) => m.index < assistantIndex));
    const newest = turns.pop();
    if (newest?.role !== 'user') throw new GatewayError('invalid_request', 'Invalid request: the conversation has no user message to answer.');
    const { request } = job;
    const spec = this.config.models[request.modelId];
    const framing = estimatePromptTokens({ messages: [], ...(request.systemPrompt ? { systemPrompt: request.systemPrompt } : {}), ...(request.tools ? { tools: request.tools } : {}) });
    const budget = (spec?.contextTokens ?? Number.MAX_SAFE_INTEGER) - (request.inferenceConfig.maxTokens ?? DEFAULT_ANSWER_ROOM) - framing;
    const fitted = fitHistory(turns, [newest], budget);
    return {
      request: { ...request, messages: fitted.messages },
      kept: { conversationId, ...(kind !== 'regenerate' ? { userMessageId: messageIdOf(firstIndex) } : {}), messageId: messageIdOf(assistantIndex), droppedMessages: fitted.dropped },
      assistantIndex,
      added,
      removed: drop.length,
    };
  }

  /** Ends the running answer of a turn `open` refused: nothing was written, so nothing is kept or counted. */
  async refuse(job: Job): Promise<void> {
    await this.conversations.abandon(job.owner ?? '', job.conversation!.conversationId, job.jobId);
  }

  /**
   * Keeps the answer and ends the conversation's running answer. A job that never opened its
   * turn (it failed before) keeps an empty answer, so the conversation shows the turn ended.
   */
  async close(job: Job, turn: OpenTurn | undefined, outcome: TurnOutcome): Promise<void> {
    const { conversationId, firstIndex, kind } = job.conversation!;
    const assistantIndex = turn?.assistantIndex ?? (kind === 'regenerate' ? firstIndex : firstIndex + 1);
    const content: ContentBlock[] = [
      ...(outcome.text !== '' ? [{ type: 'text' as const, text: outcome.text }] : []),
      ...outcome.toolUses.map((use) => ({ type: 'tool_use' as const, toolUseId: use.toolUseId, name: use.name, input: use.input })),
    ];
    const answer: StoredMessage = {
      index: assistantIndex,
      role: 'assistant',
      content,
      createdAt: Date.now(),
      requestId: job.requestId,
      jobId: job.jobId,
      status: outcome.status,
      ...(outcome.usage !== undefined ? { usage: outcome.usage } : {}),
      ...(outcome.modelId !== undefined ? { modelId: outcome.modelId } : {}),
      ...(outcome.stopReason !== undefined ? { stopReason: outcome.stopReason } : {}),
    };
    const wrote = await this.conversations.append(conversationId, answer);
    const owner = job.owner ?? '';
    const ended = await this.conversations.finish(owner, conversationId, job.jobId, {
      added: (turn?.added ?? 0) + (wrote ? 1 : 0),
      removed: turn?.removed ?? 0,
      historyTokens: outcome.usage !== undefined ? outcome.usage.inputTokens + outcome.usage.outputTokens : estimatePromptTokens({ messages: [...(turn?.request.messages ?? []), { role: 'assistant', content: content.length > 0 ? content : ' ' }] }),
      lastModelId: outcome.modelId,
      pendingToolUseIds: outcome.status === 'complete' ? outcome.toolUses.map((use) => use.toolUseId) : [],
      updatedAt: Date.now(),
    });
    // Deleted while it answered: what it wrote goes too, so nothing of it outlives its delete.
    if (!ended && (await this.conversations.get(owner, conversationId)) === undefined) {
      await this.conversations.remove(conversationId, [firstIndex, assistantIndex]);
    }
  }
}

function lastUserAt(stored: readonly StoredMessage[]): number {
  for (let i = stored.length - 1; i >= 0; i -= 1) if (stored[i]!.role === 'user') return i;
  return -1;
}
