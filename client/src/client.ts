import type { GatewayClientOptions, RequestOptions, Status } from './types.js';
import { Connection } from './connection.js';
import { GatewayError } from './errors.js';
import { randomId } from './keepalive.js';
import type { ChatData, ServerFrame } from './protocol.generated.js';
import { PendingCancels } from './pending-cancels.js';
import { errorOf, PendingRequest, type ChatResult, type GatewayStream } from './request.js';
import { runTools, type RunToolsOptions, type RunToolsResult } from './run-tools.js';
import type { Attachment, UploadBody, UploadOptions } from './upload.js';
import { Uploads } from './uploads.js';

/**
 * How long the gateway may take to answer a frame by default: its route function may run for up
 * to 29 s (API Gateway's integration timeout) before `accepted`, plus a few seconds of network.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 35_000;

/**
 * A client of the gateway's wire protocol v1 for browser chat UIs and Node: requests correlated
 * by requestId, streamed text as an async iterator, cancel through AbortSignal, typed errors,
 * keepalive, and reconnect with exponential backoff and full jitter — after which every answer
 * in flight is resumed from the last chunk delivered, so the caller's iterator just goes on.
 */
export class GatewayClient {
  private readonly connection: Connection;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly requestTimeoutMs: number;
  private readonly cancels: PendingCancels;
  private readonly uploads: Uploads;

  constructor(options: GatewayClientOptions) {
    this.connection = new Connection(options, {
      opened: () => this.onOpen(),
      closed: () => this.onClose(),
      refused: (error) => this.onRefused(error),
      message: (data) => this.onMessage(data),
    });
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // Long enough for a reconnect with backoff; a request the gateway still runs after that has
    // been stopped by its own grace time.
    this.cancels = new PendingCancels(10 * 60_000);
    this.uploads = new Uploads({ connect: () => this.connect(), send: (frame) => this.connection.send(frame), timeoutMs: this.requestTimeoutMs });
  }

  get status(): Status {
    return this.connection.status;
  }

  /**
   * Listens to status changes; returns the function that stops listening. With `unauthorized`
   * the listener also gets the GatewayError saying why (its `httpStatus` where known).
   */
  on(event: 'status', listener: (status: Status, error?: GatewayError) => void): () => void {
    if (event !== 'status') throw new TypeError(`unknown event ${String(event)}`);
    return this.connection.onStatus(listener);
  }

  /** Opens the connection (and keeps it open, reconnecting, until `close()`). */
  connect(): Promise<void> {
    return this.connection.connect();
  }

  /** Streams an answer: `for await (const text of stream)`, then `await stream.done`. */
  stream(data: ChatData, options: RequestOptions = {}): GatewayStream {
    return this.start('stream', data, options);
  }

  /**
   * The tool loop: streams, runs the functions the model calls, sends their results back, and
   * repeats until it answers without tools (or `maxSteps`). See RunToolsOptions.
   */
  runTools(data: ChatData, options: RunToolsOptions): Promise<RunToolsResult> {
    return runTools((step) => this.stream(step, options.signal ? { signal: options.signal } : {}), data, options);
  }

  /**
   * Uploads an image or document for a later message: asks the gateway for a presigned URL
   * (`llm/upload`), PUTs the bytes there, and resolves with the attachment and its content block
   * (`{ type: 'image' | 'document', attachmentId }`) to put in a user turn's `content`.
   */
  upload(body: UploadBody, options: UploadOptions = {}): Promise<Attachment> {
    return this.uploads.upload(body, options);
  }

  /**
   * Resumes an answer this or another client started (after a page reload, say): its frames from
   * `fromSeq` (0: from the start), the live rest and its end, as a stream like `stream()`'s. It
   * rejects with `resume_unavailable` when the answer is unknown, expired or the token wrong.
   */
  resume(target: { readonly requestId: string; readonly resumeToken: string; readonly fromSeq?: number }, options: Pick<RequestOptions, 'signal'> = {}): GatewayStream {
    return this.start('stream', { messages: [] }, { requestId: target.requestId, ...options }, { resumeToken: target.resumeToken, fromSeq: target.fromSeq ?? 0 });
  }

  /**
   * Stops delivering an answer to this client *without* cancelling it on the gateway: it goes on
   * there, and this or another client may resume it with its token. The stream ends here with
   * GatewayError `detached`. (An AbortSignal, by contrast, stops the answer.)
   */
  detach(stream: GatewayStream): void {
    const request = this.pending.get(stream.requestId);
    if (request === undefined || request !== stream) return;
    request.fail(new GatewayError('detached', 'The answer was detached from this client; it goes on on the gateway.', { requestId: request.requestId }));
  }

  /** One complete answer (its parts joined). */
  chat(data: ChatData, options: RequestOptions = {}): Promise<ChatResult> {
    return this.start('chat', data, options).chatResult();
  }

  /** Ends every request (GatewayError `closed`, the gateway told to stop it) and the connection, and stops reconnecting. */
  close(): Promise<void> {
    // The gateway stops what it runs for this client: the cancels go out before the socket closes.
    for (const request of [...this.pending.values()]) {
      this.giveUp(request);
      request.fail(new GatewayError('closed', 'The client was closed.', { requestId: request.requestId }));
    }
    return this.connection.close();
  }

  private start(mode: 'stream' | 'chat', data: ChatData, options: RequestOptions, resumeOf?: { resumeToken: string; fromSeq: number }): PendingRequest {
    const requestId = options.requestId ?? randomId();
    const frame = { action: mode === 'chat' ? 'llm/chat' : 'llm/stream', requestId, data };
    const request = new PendingRequest(requestId, frame, mode, () => {
      if (this.pending.get(requestId) === request) this.pending.delete(requestId);
    });
    if (resumeOf !== undefined) {
      // Already accepted elsewhere: it is sent as `llm/resume` from `fromSeq`, never as a request.
      request.resumeToken = resumeOf.resumeToken;
      request.nextSeq = resumeOf.fromSeq;
      request.everSent = true;
    }
    const { signal } = options;
    if (signal?.aborted) {
      request.fail(new GatewayError('cancelled', 'The request was cancelled.', { requestId }));
      return request;
    }
    if (this.pending.has(requestId)) {
      // The gateway would refuse it, and its frames could not be told from the running one's.
      request.fail(new GatewayError('invalid_request', `requestId "${requestId}" is already in use by a request of this client.`, { requestId }));
      return request;
    }
    signal?.addEventListener('abort', () => this.cancel(request), { once: true });
    this.pending.set(requestId, request);
    if (this.connection.status === 'open') this.send(request);
    else {
      // Waits (bounded) for the connection instead of failing at once.
      this.connect().catch((error: unknown) => request.fail(error instanceof GatewayError ? error : new GatewayError('connection_lost', String(error))));
    }
    return request;
  }

  private cancel(request: PendingRequest): void {
    if (request.settled) return;
    this.giveUp(request);
    request.fail(new GatewayError('cancelled', 'The request was cancelled.', { requestId: request.requestId }));
  }

  /**
   * This client stops waiting for a request the gateway may be running: its `llm/cancel` is sent
   * now when it can reach it, else from the next connection (with the resume token, which reaches
   * it wherever it runs), so the model stops and the user's slot is freed.
   */
  private giveUp(request: PendingRequest): void {
    if (!request.everSent) return;
    this.cancels.add(request.requestId, request.resumeToken);
    this.sendCancels();
  }

  private sendCancels(): void {
    if (this.connection.status !== 'open') return;
    for (const frame of this.cancels.take()) this.connection.send(frame);
  }

  /** Sends a request on the open connection: its frame the first time, a resume after a reconnect. */
  private send(request: PendingRequest): void {
    if (request.sent) return;
    const resuming = request.resumeToken !== undefined;
    const frame = resuming
      ? { action: 'llm/resume', requestId: request.requestId, data: { resumeToken: request.resumeToken, fromSeq: request.nextSeq } }
      : request.frame;
    if (!this.connection.send(frame)) return;
    request.sent = true;
    request.everSent = true;
    request.resuming = resuming;
    // A gateway that never answers must not leave the caller waiting forever.
    request.awaitAnswer(this.requestTimeoutMs, () => {
      if (request.settled) return;
      this.giveUp(request);
      const what = resuming ? 'resume' : 'request';
      request.fail(new GatewayError('request_timeout', `The gateway did not answer the ${what} within ${this.requestTimeoutMs} ms.`, { retryable: true, requestId: request.requestId }));
    });
  }

  /** A socket opened: owed cancels first, then every pending request (a resume for an accepted one). */
  private onOpen(): void {
    this.sendCancels();
    for (const request of this.pending.values()) this.send(request);
  }

  private onClose(): void {
    for (const request of [...this.pending.values()]) {
      // Sent but never accepted: the gateway may or may not have taken it, and a resend could
      // run it twice; it ends here (retryable). An accepted one is resumed after the reconnect.
      if (request.sent && request.resumeToken === undefined) {
        request.fail(new GatewayError('connection_lost', 'The connection closed before the request was accepted.', { retryable: true, requestId: request.requestId }));
      }
      request.sent = false;
    }
  }

  /** The gateway refused the connection: nothing pending can go on (no token gets through). */
  private onRefused(error: GatewayError): void {
    for (const request of [...this.pending.values()]) {
      request.fail(new GatewayError(error.code, error.message, { requestId: request.requestId, ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}) }));
    }
  }

  private onMessage(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === 'pong') return;
    if (frame.type === 'error' && frame.requestId === undefined && frame.refusedRequestId !== undefined) {
      this.onRefusal(frame.refusedRequestId, frame);
      return;
    }
    if (!('requestId' in frame) || frame.requestId === undefined) return;
    if (this.uploads.receive(frame as ServerFrame & { requestId: string })) return;
    const request = this.pending.get(frame.requestId);
    if (request === undefined) {
      this.onAbandoned(frame.requestId, frame);
      return;
    }
    if (request.receive(frame) === 'gap') {
      // Chunks went missing: ask for them again from the first one not delivered.
      request.sent = false;
      if (request.resumeToken !== undefined) this.send(request);
      else request.fail(new GatewayError('protocol_error', 'Chunks arrived out of order.', { requestId: request.requestId }));
    }
  }

  /**
   * A frame of ours was refused without ending the request its id names on the gateway (which
   * holds that id on this connection): a request or resume of a pending request cannot go on, so
   * it fails with the refusal, and the gateway's request is cancelled.
   */
  private onRefusal(requestId: string, frame: Extract<ServerFrame, { type: 'error' }>): void {
    const request = this.pending.get(requestId);
    if (request === undefined || request.settled) return;
    if (request.resumeToken === undefined || request.resuming) {
      this.giveUp(request);
      request.fail(errorOf({ ...frame, requestId }));
    }
  }

  /** A frame of a request this client gave up: its `accepted` lets the owed cancel carry the token. */
  private onAbandoned(requestId: string, frame: ServerFrame): void {
    if (!this.cancels.has(requestId)) return;
    if (frame.type === 'accepted') {
      this.cancels.accepted(requestId, frame.resumeToken);
      this.sendCancels();
    } else if (frame.type === 'done' || frame.type === 'error' || (frame.type === 'response' && frame.part === frame.parts - 1)) {
      this.cancels.ended(requestId);
    }
  }

}
