import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import type { ChatModel, ChatModelEvent, ChatModelRequest } from '../llm/chat-model';
import type { ResponseFrame } from '../models/frames';
import { GatewayError, toGatewayError } from '../models/errors';
import { LIMITS } from '../models/limits';
import type { ChatRequestFrame } from '../models/protocol';
import type { ConnectionStore } from '../stores/connection-store';
import type { RequestStore } from '../stores/request-store';
import type { Logger } from '../utils/logger';
import { ConnectionGoneError, type FrameSender } from '../utils/websocket';
import type { ActiveGenerations } from './active-generations';
import { ChunkStream } from './chunk-stream';
import { errorFrame } from './error-frame';
import { splitToFit } from './frame-split';
import type { Admission, RateLimiter } from './rate-limit';
import { estimatePromptTokens } from '../llm/tokens';

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
  readonly model: ChatModel;
  readonly sender: FrameSender;
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly active: ActiveGenerations;
  readonly limiter: RateLimiter;
}

export type AnswerMode = 'stream' | 'chat';

interface Generation {
  readonly caller: Caller;
  readonly requestId: string;
  readonly request: ChatModelRequest;
  readonly frame: ChatRequestFrame;
  readonly signal: AbortSignal;
  readonly abort: (reason: unknown) => void;
  readonly log: Logger;
  readonly progress: Progress;
}

/** What a generation has used so far, for settling the token budget however it ends. */
interface Progress {
  producedChars: number;
  usedTokens: number | undefined;
}

/** Output tokens reserved for a request that names no maxTokens. */
const DEFAULT_OUTPUT_RESERVE = 1000;


function cancelledError(): GatewayError {
  return new GatewayError('cancelled', 'The request was cancelled.');
}

/**
 * Chat orchestration: resolves the model, runs it, delivers the answer and ends every request
 * with exactly one terminal frame (`done`, `response` or `error`) unless the client has gone.
 */
export class MessageService {
  constructor(private readonly deps: MessageServiceDeps) {}

  /** Runs one chat request to its end. Never throws: failures become an `error` frame. */
  async generate(caller: Caller, frame: ChatRequestFrame, mode: AnswerMode): Promise<void> {
    const requestId = frame.requestId ?? randomUUID();
    const log = caller.log.child({ requestId });
    const { connectionId } = caller;
    let began = false;
    const controller = new AbortController();
    let stopPolling = (): void => undefined;
    let admission: Admission | undefined;
    const progress: Progress = { producedChars: 0, usedTokens: undefined };
    let inputTokens = 0;
    try {
      const request = this.resolve(frame);
      inputTokens = estimatePromptTokens(request);
      admission = await this.deps.limiter.admit(caller, inputTokens + (request.inferenceConfig.maxTokens ?? DEFAULT_OUTPUT_RESERVE));
      began = await this.deps.requests.begin(connectionId, requestId, this.deps.config.requestTtlSeconds);
      if (!began) {
        throw new GatewayError('invalid_request', `requestId "${requestId}" is already running on this connection.`);
      }
      this.deps.active.register(connectionId, requestId, controller);
      stopPolling = this.pollCancel(connectionId, requestId, controller, log);
      const generation: Generation = {
        caller,
        requestId,
        request,
        frame,
        signal: controller.signal,
        abort: (reason) => controller.abort(reason),
        log,
        progress,
      };
      await this.deps.sender.send(connectionId, { type: 'accepted', requestId, modelId: request.modelId });
      if (mode === 'stream') await this.streamAnswer(generation);
      else await this.chatAnswer(generation);
    } catch (error) {
      await this.fail(caller, requestId, controller.signal.aborted ? controller.signal.reason : error, log);
    } finally {
      stopPolling();
      // Whatever ended the generation — done, error, cancel, a crash — its slots are given back
      // and its token reservation settles to the usage reported, or else estimated.
      const used = progress.usedTokens ?? inputTokens + Math.ceil(progress.producedChars / 4);
      await admission?.settle(used).catch((error: unknown) => log.warn({ err: error }, 'could not settle limits; the counters expire'));
      if (began) {
        this.deps.active.unregister(connectionId, requestId);
        await this.deps.requests.end(connectionId, requestId).catch((error: unknown) => {
          log.warn({ err: error }, 'could not remove the request record; its TTL will');
        });
      }
    }
  }

  /** Sets the cancel flag of one of this connection's requests and stops it if it runs here. */
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

  private async streamAnswer(g: Generation): Promise<void> {
    const { sender, config } = this.deps;
    const connectionId = g.caller.connectionId;
    const chunks = new ChunkStream({
      requestId: g.requestId,
      post: (frame) => sender.send(connectionId, frame),
      onFailure: g.abort,
      flushIntervalMs: config.stream.flushIntervalMs,
      flushBytes: config.stream.flushBytes,
    });
    let firstTokenAt: number | undefined;
    try {
      const end = await this.consume(g, (text) => {
        firstTokenAt ??= Date.now();
        chunks.write(text);
      });
      await chunks.end();
      await sender.send(connectionId, {
        type: 'done',
        requestId: g.requestId,
        seq: chunks.sent,
        modelId: end.modelId,
        stopReason: end.stopReason,
        usage: end.usage,
        metrics: {
          timeToFirstTokenMs: firstTokenAt === undefined ? null : firstTokenAt - g.caller.receivedAt,
          totalMs: Date.now() - g.caller.receivedAt,
        },
        ...(g.frame.data.metadata ? { metadata: g.frame.data.metadata } : {}),
      });
    } catch (error) {
      const reason: unknown = g.signal.aborted ? g.signal.reason : error;
      // Text the model already produced reaches the client before the error frame does.
      if (!(reason instanceof ConnectionGoneError)) await chunks.end().catch(() => undefined);
      throw reason;
    } finally {
      chunks.close();
    }
  }

  private async chatAnswer(g: Generation): Promise<void> {
    let content = '';
    const end = await this.consume(g, (text) => {
      content += text;
    });
    const last = (piece: string, part: number, parts: number): ResponseFrame => ({
      type: 'response',
      requestId: g.requestId,
      part,
      parts,
      content: piece,
      modelId: end.modelId,
      stopReason: end.stopReason,
      usage: end.usage,
      ...(g.frame.data.metadata ? { metadata: g.frame.data.metadata } : {}),
    });
    // Sized as the last part (the largest shape), so every part fits the message limit.
    const pieces = splitToFit(content, LIMITS.maxMessageBytes - 1024, (piece) => last(piece, 999_999, 999_999));
    for (const [part, piece] of pieces.entries()) {
      const frame: ResponseFrame =
        part === pieces.length - 1
          ? last(piece, part, pieces.length)
          : { type: 'response', requestId: g.requestId, part, parts: pieces.length, content: piece };
      await this.deps.sender.send(g.caller.connectionId, frame);
    }
  }

  /** Feeds the model's text to `onText` and returns its end event. */
  private async consume(g: Generation, onText: (text: string) => void): Promise<Extract<ChatModelEvent, { type: 'end' }>> {
    let end: Extract<ChatModelEvent, { type: 'end' }> | undefined;
    for await (const event of this.deps.model.stream(g.request, g.signal)) {
      if (event.type === 'delta') {
        g.progress.producedChars += event.text.length;
        onText(event.text);
      } else {
        end = event;
        g.progress.usedTokens = event.usage.totalTokens;
      }
    }
    // An SDK stream ends silently when aborted: never report that as a complete answer.
    g.signal.throwIfAborted();
    if (end === undefined) throw new GatewayError('upstream_error', 'The model ended its answer without a stop reason.');
    return end;
  }

  private async fail(caller: Caller, requestId: string, reason: unknown, log: Logger): Promise<void> {
    if (reason instanceof ConnectionGoneError) {
      log.info('connection gone: generation stopped, connection record removed');
      await this.deps.connections.delete(caller.connectionId).catch((error: unknown) => {
        log.warn({ err: error }, 'could not remove the stale connection record; its TTL will');
      });
      return;
    }
    const error = toGatewayError(reason);
    if (error.code === 'internal_error') log.error({ err: reason }, 'request failed');
    else log.info({ code: error.code, err: error.cause ?? error }, 'request ended with an error frame');
    await this.deps.sender.send(caller.connectionId, errorFrame(error, requestId)).catch((sendError: unknown) => {
      log.warn({ err: sendError }, 'could not deliver the error frame');
    });
  }

  /**
   * Polls the shared cancel flag, so a cancel handled by another Lambda invocation stops this
   * generation within one interval. The poll stops with the generation.
   */
  private pollCancel(connectionId: string, requestId: string, controller: AbortController, log: Logger): () => void {
    const interval = this.deps.config.stream.cancelCheckIntervalMs;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const tick = async (): Promise<void> => {
      try {
        if (await this.deps.requests.isCancelled(connectionId, requestId)) controller.abort(cancelledError());
      } catch (error) {
        log.warn({ err: error }, 'cancel flag check failed');
      }
      if (!stopped && !controller.signal.aborted) timer = setTimeout(() => void tick(), interval);
    };
    if (interval > 0) timer = setTimeout(() => void tick(), interval);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }
}

