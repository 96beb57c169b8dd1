import type { AppConfig } from '../config/config';
import type { AttachmentStore } from '../attachments/attachment-store';
import { ByteBudget } from '../attachments/byte-budget';
import { attachmentKey, keptAttachmentKey } from '../attachments/keys';
import { MAX_DOCUMENTS, MAX_IMAGES, resolveRequest, type AttachmentLimits } from '../attachments/resolve';
import type { ChatModelRequest } from '../llm/chat-model';
import { estimatePromptTokens } from '../llm/tokens';
import type { Job } from '../models/job';
import { collectAfterRelease } from '../utils/collect-garbage';

/** What the admission reserved for a job, as the worker may grow it (see RateLimiter.reserveMore). */
type Ticket = Job['ticket'];

/** A job's request as the model gets it, with what it now reserves, and what gives its attachments' memory back. */
export interface ModelInput {
  readonly request: ChatModelRequest;
  /** The prompt's estimate with the attachments read (documents by their real size). */
  readonly inputTokens: number;
  readonly ticket: Ticket;
  readonly release: () => void;
}

/**
 * The worker's step between the claim and the model call: the job's attachments read and checked
 * within the process's attachment budget (one per worker process, shared by a batch's answers),
 * and the token reservation grown to what the attachments really hold — never more than the
 * limits allow (`reserveMore` refuses instead).
 */
export class ModelInputs {
  private readonly budget: ByteBudget;
  private readonly limits: AttachmentLimits;

  constructor(
    config: AppConfig,
    private readonly store: AttachmentStore | undefined,
    private readonly reserveMore: (ticket: Ticket, extraTokens: number) => Promise<Ticket>,
  ) {
    const { maxBytesPerRequest, workerBudgetBytes } = config.attachments;
    this.budget = new ByteBudget(workerBudgetBytes, collectAfterRelease);
    this.limits = { maxImages: MAX_IMAGES, maxDocuments: MAX_DOCUMENTS, maxBytesPerRequest: Math.min(maxBytesPerRequest, workerBudgetBytes) };
  }

  async prepare(job: Job, signal: AbortSignal): Promise<ModelInput> {
    const owner = job.owner ?? '';
    const conversationId = job.conversation?.conversationId;
    // A conversation's turn reads the copies the conversation keeps (its worker made them when it kept each message).
    const keyOf = conversationId === undefined ? (id: string) => attachmentKey(owner, id) : (id: string) => keptAttachmentKey(owner, conversationId, id);
    const { request, release } = await resolveRequest(job.request, keyOf, { store: this.store, budget: this.budget, limits: this.limits }, signal);
    try {
      const inputTokens = estimatePromptTokens(request);
      const ticket = await this.reserveMore(job.ticket, inputTokens - job.inputTokens);
      return { request, inputTokens, ticket, release };
    } catch (error) {
      release();
      throw error;
    }
  }
}
