import type { AppConfig } from '../config/config';
import { fitHistory, turnsOf } from '../generation/conversation-history';
import { estimatePromptTokens } from '../llm/tokens';
import { messageIdOf } from '../models/conversation-id';
import { GatewayError } from '../models/errors';
import type { Job, JobRequest } from '../models/job';
import type { ContentBlock } from '../models/protocol';
import type { TurnKept, ToolUse, Usage } from '../models/server-frames';
import type { CounterStore } from '../stores/counter-store';
import { checkEditAnswersCalls, TurnRefusal } from './turn-refusal';
import { conversationBytesKey, FOREVER, messageBytes } from './conversation-bytes';
import { type ConversationAttachments, UnknownAttachment } from './conversation-attachments';
import type { ConversationMeta, ConversationStore, StoredMessage, TurnStatus } from '../stores/conversation-store';

/** A conversation's turn as the worker runs it: the model's whole request, and where the turn is kept. */
export interface OpenTurn {
  readonly request: JobRequest;
  readonly kept: TurnKept;
  /** The answer's index, and how many messages this turn added (the user's) and took away so far. */
  readonly assistantIndex: number;
  readonly added: number;
  readonly removed: number;
  /** Bytes this turn's messages added so far, less those it removed. */
  readonly bytes: number;
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

/** What closing a turn changed: messages added and removed, whether its answer was new, and (a turn that wrote nothing) the conversation as it was. */
interface Kept {
  readonly added: number;
  readonly removed: number;
  readonly wrote: boolean;
  /** Bytes the conversation's messages gained (or lost) by the turn. */
  readonly bytes: number;
  readonly unchanged?: Pick<ConversationMeta, 'historyTokens' | 'pendingToolUseIds'>;
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
    private readonly attachments: ConversationAttachments,
    private readonly counters: CounterStore,
  ) {}

  /** The conversation's history, read as soon as the job arrives — beside its claim, not after it. */
  prefetch(job: Job): Promise<StoredMessage[]> | undefined {
    if (job.conversation === undefined) return undefined;
    const read = this.conversations.history(job.conversation.conversationId);
    read.catch(() => undefined);
    return read;
  }

  async open(job: Job, prefetched?: Promise<StoredMessage[]>): Promise<OpenTurn> {
    const turn = job.conversation!;
    const { conversationId, firstIndex, kind } = turn;
    let stored = await (prefetched ?? this.conversations.history(conversationId));
    // What the turn replaces goes first: an edit drops the message it edits and all after it, a
    // regeneration the answers after the last user message. (Again after a redelivery: nothing is left to drop.)
    const drop = kind === 'edit' ? stored.filter((m) => m.index >= turn.editFrom! && m.index < firstIndex) : kind === 'regenerate' ? stored.slice(lastUserAt(stored) + 1).filter((m) => m.index < firstIndex) : [];
    if (kind === 'edit' && stored.find((m) => m.index === turn.editFrom)?.role !== 'user' && !stored.some((m) => m.index === firstIndex)) {
      throw new TurnRefusal(`Invalid request: data.editFrom must name a user message of the conversation ("${messageIdOf(turn.editFrom!)}" is none).`);
    }
    const owner = job.owner ?? '';
    const user = job.request.messages[0];
    if (kind === 'edit') checkEditAnswersCalls(stored.filter((m) => m.index < turn.editFrom!).at(-1), user);
    // The new message's uploads are kept with the conversation before anything is written: an
    // unknown one refuses the turn, leaving the conversation as it was.
    if (kind !== 'regenerate' && user !== undefined) {
      await this.attachments.keep(owner, conversationId, user.content).catch((error: unknown) => {
        throw error instanceof UnknownAttachment ? new TurnRefusal(`Invalid request: data.message: unknown attachment "${error.attachmentId}".`) : error;
      });
    }
    if (drop.length > 0) {
      await this.conversations.remove(conversationId, drop.map((m) => m.index));
      await this.attachments.forget(owner, conversationId, drop, [...stored.filter((m) => !drop.includes(m)), ...(user !== undefined ? [{ ...drop[0]!, content: user.content }] : [])]);
    }
    stored = stored.filter((m) => !drop.includes(m));
    let added = 0;
    let bytes = -drop.reduce((sum, m) => sum + messageBytes(m), 0);
    const assistantIndex = kind === 'regenerate' ? firstIndex : firstIndex + 1;
    if (kind !== 'regenerate' && user !== undefined) {
      const message: StoredMessage = { index: firstIndex, role: 'user', content: user.content, createdAt: job.receivedAt, requestId: job.requestId, jobId: job.jobId };
      if (await this.conversations.append(conversationId, message)) {
        added = 1;
        bytes += messageBytes(message);
      }
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
    // The estimate counts ~4 characters a token; the provider's count of the history at the last
    // turn says how far off that is for this conversation (code, other languages): the budget
    // shrinks by as much, never grows.
    const measured = turn.historyTokens ?? 0;
    const estimated = estimatePromptTokens({ messages: turns }) + framing;
    const factor = measured > 0 && estimated > 0 ? Math.max(1, measured / estimated) : 1;
    const fitted = fitHistory(turns, [newest], Math.floor(budget / factor));
    return {
      request: { ...request, messages: fitted.messages },
      kept: { conversationId, ...(kind !== 'regenerate' ? { userMessageId: messageIdOf(firstIndex) } : {}), messageId: messageIdOf(assistantIndex), droppedMessages: fitted.dropped },
      assistantIndex,
      added,
      removed: drop.length,
      bytes,
    };
  }

  /** Whether the conversation still runs this job's turn — or is gone (close then removes what the turn wrote). */
  async holds(job: Job): Promise<boolean> {
    const meta = await this.conversations.get(job.owner ?? '', job.conversation!.conversationId);
    return meta === undefined || meta.running?.jobId === job.jobId;
  }

  /** Ends the running answer of a turn `open` refused: nothing was written, so nothing is kept or counted. */
  async refuse(job: Job): Promise<void> {
    await this.conversations.abandon(job.owner ?? '', job.conversation!.conversationId, job.jobId);
  }

  /**
   * Keeps the answer and ends the conversation's running answer. A job that never opened its
   * turn here keeps an empty answer when its question awaits one (an earlier delivery wrote it and
   * died), so the conversation shows the turn ended; see keepUnopened.
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
    const owner = job.owner ?? '';
    const kept = turn !== undefined ? await this.keep(conversationId, answer, turn) : await this.keepUnopened(owner, conversationId, answer);
    const { bytes } = kept;
    const ended = await this.conversations.finish(owner, conversationId, job.jobId, {
      added: kept.added,
      removed: kept.removed,
      bytes,
      historyTokens:
        kept.unchanged?.historyTokens ??
        (outcome.usage !== undefined ? outcome.usage.inputTokens + outcome.usage.outputTokens : estimatePromptTokens({ messages: [...(turn?.request.messages ?? []), { role: 'assistant', content: content.length > 0 ? content : ' ' }] })),
      lastModelId: outcome.modelId,
      pendingToolUseIds: kept.unchanged?.pendingToolUseIds ?? (outcome.status === 'complete' ? outcome.toolUses.map((use) => use.toolUseId) : []),
      updatedAt: Date.now(),
    });
    // The owner's total, as the route checks it before each turn (a redelivery finds the turn ended and adds nothing).
    if (ended && bytes !== 0) await this.counters.tryAdd(conversationBytesKey(owner), bytes, Number.MAX_SAFE_INTEGER, FOREVER);
    // Deleted while it answered: what it wrote goes too, so nothing of it outlives its delete.
    if (!ended && (await this.conversations.get(owner, conversationId)) === undefined) {
      await this.conversations.remove(conversationId, [firstIndex, assistantIndex]);
      await this.attachments.removeAll(owner, conversationId);
    }
  }

  /** What a turn opened here keeps: its answer, when new, beside what `open` counted. */
  private async keep(conversationId: string, answer: StoredMessage, turn: OpenTurn): Promise<Kept> {
    const wrote = await this.conversations.append(conversationId, answer);
    return { added: turn.added + (wrote ? 1 : 0), removed: turn.removed, wrote, bytes: turn.bytes + (wrote ? messageBytes(answer) : 0) };
  }

  /**
   * What a job that never opened its turn here keeps. An earlier delivery may have opened it and
   * died — its removals made and its user message written, neither counted — or none did, and
   * nothing of the turn was written (cancelled while queued, never claimed). The store decides: the
   * answer is kept only where a question awaits one, the count moves by what the store holds less
   * what the conversation counted, and a turn that wrote nothing leaves the history's tokens and
   * pending calls as they were.
   */
  private async keepUnopened(owner: string, conversationId: string, answer: StoredMessage): Promise<Kept> {
    const [meta, stored] = await Promise.all([this.conversations.get(owner, conversationId), this.conversations.history(conversationId)]);
    const awaiting = stored.filter((m) => m.index < answer.index).at(-1)?.role === 'user';
    const wrote = awaiting && (await this.conversations.append(conversationId, answer));
    const delta = stored.length + (wrote ? 1 : 0) - (meta?.messageCount ?? 0);
    // Bytes likewise: what the store holds now, less what the conversation counted.
    const bytes = stored.reduce((sum, m) => sum + messageBytes(m), wrote ? messageBytes(answer) : 0) - (meta?.bytes ?? 0);
    return { added: Math.max(0, delta), removed: Math.max(0, -delta), wrote, bytes, ...(!awaiting && meta !== undefined ? { unchanged: meta } : {}) };
  }
}

function lastUserAt(stored: readonly StoredMessage[]): number {
  for (let i = stored.length - 1; i >= 0; i -= 1) if (stored[i]!.role === 'user') return i;
  return -1;
}
