import type { GatewayClientOptions, RequestOptions, Status } from './types.js';
import { Connection } from './connection.js';
import { Conversations } from './conversations.js';
import { GatewayError } from './errors.js';
import type { ChatData, ServerFrame } from './protocol.generated.js';
import type { ChatResult, GatewayStream, ResumeTarget } from './request.js';
import { Requests } from './requests.js';
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
  private readonly requests: Requests;
  private readonly uploads: Uploads;
  /**
   * Conversations kept on the gateway: `create`, `list`, `get` (a page of messages), `rename`,
   * `delete`, and `resume` / `cancel` of the answer one is running. A turn is `stream()` (or
   * `chat()`) with `{ conversationId, message }`, `{ conversationId, regenerate: true }` or
   * `{ conversationId, editFrom, message }`.
   */
  readonly conversations: Conversations;

  constructor(options: GatewayClientOptions) {
    this.connection = new Connection(options, {
      opened: () => {
        this.requests.opened();
        this.conversations.opened();
      },
      closed: () => {
        this.requests.closed();
        this.conversations.closed();
      },
      refused: (error) => {
        this.requests.refused(error);
        this.conversations.failAll(error);
      },
      message: (data) => this.onMessage(data),
    });
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.requests = new Requests(this.connection, timeoutMs);
    const connect = (): Promise<void> => this.connect();
    const send = (frame: unknown): boolean => this.connection.send(frame);
    this.uploads = new Uploads({ connect, send, timeoutMs });
    this.conversations = new Conversations({ connect, send, timeoutMs, resume: (target, resumeOptions) => this.resume(target, resumeOptions) });
  }

  get status(): Status {
    return this.connection.status;
  }

  /**
   * Listens to status changes; returns the function that stops listening. With `unauthorized`
   * the listener also gets the GatewayError saying why (its `httpStatus` where known); when the
   * gateway cannot be reached, `reconnecting` comes once with GatewayError `unreachable`.
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
    return this.requests.start('stream', data, options);
  }

  /**
   * The tool loop: streams, runs the functions the model calls, sends their results back, and
   * repeats until it answers without tools (or `maxSteps`). See RunToolsOptions. In a
   * conversation (`data.conversationId`), each step after the first sends only the results.
   */
  runTools(data: ChatData, options: RunToolsOptions): Promise<RunToolsResult> {
    const { signal, onResumed } = options;
    return runTools((step) => this.stream(step, { ...(signal ? { signal } : {}), ...(onResumed ? { onResumed } : {}) }), data, options);
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
   * Instead of the token, a conversation's running answer may be named by its `conversationId`
   * (what `conversations.resume()` does, having found the `requestId` with `conversations.get()`).
   */
  resume(target: { readonly requestId: string; readonly fromSeq?: number } & ResumeTarget, options: Pick<RequestOptions, 'signal' | 'onResumed'> = {}): GatewayStream {
    const by: ResumeTarget = 'resumeToken' in target ? { resumeToken: target.resumeToken } : { conversationId: target.conversationId };
    return this.requests.start('stream', { messages: [] }, { requestId: target.requestId, ...options }, { ...by, fromSeq: target.fromSeq ?? 0 });
  }

  /**
   * Stops delivering an answer to this client *without* cancelling it on the gateway: it goes on
   * there, and this or another client may resume it with its token. The stream ends here with
   * GatewayError `detached`. (An AbortSignal, by contrast, stops the answer.)
   */
  detach(stream: GatewayStream): void {
    this.requests.detach(stream);
  }

  /** One complete answer (its parts joined). */
  chat(data: ChatData, options: RequestOptions = {}): Promise<ChatResult> {
    return this.requests.start('chat', data, options).chatResult();
  }

  /** Ends every request (GatewayError `closed`, the gateway told to stop it) and the connection, and stops reconnecting. */
  close(): Promise<void> {
    // The gateway stops what it runs for this client: the cancels go out before the socket closes.
    this.requests.closeAll();
    this.conversations.failAll(new GatewayError('closed', 'The client was closed.'));
    return this.connection.close();
  }

  private onMessage(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === 'pong') return;
    if (this.conversations.receive(frame)) return;
    if ('requestId' in frame && frame.requestId !== undefined && this.uploads.receive(frame as ServerFrame & { requestId: string })) return;
    this.requests.receive(frame);
  }
}
