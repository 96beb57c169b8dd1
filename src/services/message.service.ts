import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import type { ChatModelRequest } from '../llm/chat-model';
import { estimatePromptTokens } from '../llm/tokens';
import { GatewayError } from '../models/errors';
import type { Job } from '../models/job';
import type { ChatRequestFrame } from '../models/protocol';
import type { JobQueue } from '../queue/job-queue';
import type { ConnectionStore } from '../stores/connection-store';
import type { RequestStore } from '../stores/request-store';
import type { Logger } from '../utils/logger';
import { METRICS, type GatewayMetrics } from '../utils/metrics';
import type { FrameSender } from '../utils/websocket';
import type { ActiveGenerations } from './active-generations';
import { cancelledError } from './generation.service';
import type { AdmissionTicket, RateLimiter } from './rate-limit';
import { reportFailure } from './request-failure';

/** Who is asking: the connection and the time API Gateway received the message. */
export interface Caller {
  readonly connectionId: string;
  readonly receivedAt: number;
  /** From the $connect authorizer's context; undefined for an open gateway. */
  readonly userId: string | undefined;
  readonly sourceIp: string;
  readonly log: Logger;
}

export interface MessageServiceDeps {
  readonly config: AppConfig;
  readonly sender: FrameSender;
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly queue: JobQueue;
  readonly active: ActiveGenerations;
  readonly limiter: RateLimiter;
  readonly metrics: GatewayMetrics;
}

export type AnswerMode = 'stream' | 'chat';

/** Output tokens reserved for a request that names no maxTokens. */
const DEFAULT_OUTPUT_RESERVE = 1000;

/**
 * The route side of a chat request, inside API Gateway's 29 s: validate, admit under the limits,
 * record it, answer `accepted` and queue the generation for a worker (GenerationService).
 */
export class MessageService {
  constructor(private readonly deps: MessageServiceDeps) {}

  /**
   * Accepts one chat request. Never throws: a refusal becomes an `error` frame, and everything
   * taken for the request (limit slots, its record) is given back.
   */
  async accept(caller: Caller, frame: ChatRequestFrame, mode: AnswerMode): Promise<void> {
    const { requests, limiter, config, sender, queue } = this.deps;
    const requestId = frame.requestId ?? randomUUID();
    const jobId = randomUUID();
    const log = caller.log.child({ requestId });
    const { connectionId } = caller;
    let ticket: AdmissionTicket | undefined;
    let began = false;
    try {
      const request = this.resolve(frame);
      const inputTokens = estimatePromptTokens(request);
      ticket = await limiter.admit(caller, inputTokens + (request.inferenceConfig.maxTokens ?? DEFAULT_OUTPUT_RESERVE));
      began = await requests.begin(connectionId, requestId, jobId, config.requestTtlSeconds);
      if (!began) throw new GatewayError('invalid_request', `requestId "${requestId}" is already running on this connection.`);
      // `accepted` goes out before the job is queued, so no chunk can overtake it.
      await sender.send(connectionId, { type: 'accepted', requestId, modelId: request.modelId });
      const job: Job = {
        version: 1,
        jobId,
        mode,
        connectionId,
        requestId,
        receivedAt: caller.receivedAt,
        queuedAt: Date.now(),
        ...(caller.userId !== undefined ? { userId: caller.userId } : {}),
        request: { ...request, messages: [...request.messages] },
        ...(frame.data.metadata ? { metadata: frame.data.metadata } : {}),
        inputTokens,
        ticket: { ...ticket, slots: [...ticket.slots] },
      };
      await queue.enqueue(job).catch((error: unknown) => {
        throw new GatewayError('internal_error', 'The request could not be queued; please retry.', { retryable: true, cause: error });
      });
      this.deps.metrics.count(METRICS.messages);
    } catch (error) {
      if (ticket) await limiter.settle(ticket, 0).catch((e: unknown) => log.warn({ err: e }, 'could not release limits; the counters expire'));
      if (began) await requests.end(connectionId, requestId, jobId).catch((e: unknown) => log.warn({ err: e }, 'could not remove the request record; its TTL will'));
      await reportFailure(this.deps, connectionId, requestId, error, log);
    }
  }

  /**
   * Sets the cancel flag of one of this connection's requests and stops it at once if it runs
   * in this process. A worker elsewhere sees the flag within CANCEL_CHECK_INTERVAL_MS; a job
   * still queued is cancelled when a worker claims it, before any model call.
   */
  async cancel(caller: Caller, requestId: string): Promise<void> {
    const found = await this.deps.requests.requestCancel(caller.connectionId, requestId);
    if (!found) {
      throw new GatewayError('invalid_request', `No running request "${requestId}" on this connection.`, { requestId });
    }
    this.deps.active.abort(caller.connectionId, requestId, cancelledError());
  }

  private resolve(frame: ChatRequestFrame): ChatModelRequest {
    const { config } = this.deps;
    const modelId = frame.data.modelId ?? config.defaultModelId;
    if (!config.allowedModelIds.includes(modelId)) {
      throw new GatewayError(
        'model_not_allowed',
        `Model "${modelId}" is not allowed. Allowed models: ${config.allowedModelIds.join(', ')}.`,
      );
    }
    const inferenceConfig = frame.data.inferenceConfig ?? {};
    if (inferenceConfig.maxTokens !== undefined && inferenceConfig.maxTokens > config.maxOutputTokens) {
      throw new GatewayError(
        'invalid_request',
        `Invalid request: data.inferenceConfig.maxTokens must be at most ${config.maxOutputTokens}.`,
      );
    }
    return {
      modelId,
      messages: frame.data.messages,
      inferenceConfig,
      ...(frame.data.systemPrompt ? { systemPrompt: frame.data.systemPrompt } : {}),
    };
  }
}
