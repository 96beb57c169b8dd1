import { GatewayClient } from '../client.js';
import { GatewayError } from '../errors.js';
import type { ChatData, ChatMessage, ContentBlock } from '../protocol.generated.js';
import type { GatewayStream, StreamEvent } from '../request.js';
import type { GatewayClientOptions } from '../types.js';
import { ChunkWriter, type Chunk } from './chunks.js';
import { dataUrlBytes, toGatewayRequest, type UiMessage, type UiPart } from './messages.js';
import { endsTheAnswer } from './answer-ended.js';
import { defaultResumeStore, type ResumeStore } from './resume-store.js';
import { smoothEvents, type SmoothOptions } from '../smooth.js';
import { UploadedFiles } from './uploaded-files.js';

/** Images this small go inline in the message; larger files are uploaded first. */
const INLINE_IMAGE_BYTES = 60 * 1024;

export interface GatewayChatTransportOptions extends Partial<GatewayClientOptions> {
  /** A client to use; else one is made from the options (`url`, `token`, `WebSocket`, …). */
  readonly client?: GatewayClient;
  /** Where in-flight answers are remembered for `reconnectToStream` (default: sessionStorage, or memory). */
  readonly resumeStore?: ResumeStore;
  /** Request fields for every message (a request's `body` overrides them). */
  readonly defaults?: Pick<ChatData, 'modelId' | 'systemPrompt' | 'inferenceConfig' | 'tools' | 'toolChoice' | 'metadata'>;
  /**
   * How text deltas reach the AI SDK: let out evenly between the gateway's frames (the default;
   * see `smoothEvents`), or `false` for each frame's text as it arrives.
   */
  readonly smooth?: SmoothOptions | false;
}

/** The `sendMessages` options of the AI SDK's ChatTransport (structurally, `ai` 5 and later). */
export interface SendOptions {
  readonly trigger: 'submit-message' | 'regenerate-message';
  readonly chatId: string;
  readonly messageId: string | undefined;
  readonly messages: readonly UiMessage[];
  readonly abortSignal: AbortSignal | undefined;
  readonly body?: object;
}

/**
 * The AI SDK's `ChatTransport` over this gateway's WebSocket: `useChat({ transport })` streams
 * answers, stops them (`llm/cancel`), calls tools, sends files, and — with `resume: true` —
 * picks an answer up after a page reload, with no Redis and no HTTP route. A dropped connection
 * inside an answer is mended by the client underneath (reconnect and resume) under the same stream.
 */
export class GatewayChatTransport {
  /** A reconnect replays the answer from its start (seq 0): the AI SDK rebuilds the message. */
  readonly resumeStreamIsReplay = true;
  readonly client: GatewayClient;
  private readonly store: ResumeStore;
  private readonly owned: boolean;
  /** Files uploaded for earlier turns, referred to again rather than uploaded on every send. */
  private readonly uploaded = new UploadedFiles();

  constructor(private readonly options: GatewayChatTransportOptions) {
    if (options.client === undefined && options.url === undefined) throw new TypeError('GatewayChatTransport needs a client or a url');
    this.client = options.client ?? new GatewayClient({ ...options, url: options.url! });
    this.owned = options.client === undefined;
    this.store = options.resumeStore ?? defaultResumeStore();
  }

  async sendMessages(options: SendOptions): Promise<ReadableStream<Chunk>> {
    const converted = await toGatewayRequest(options.messages, (part) => this.fileBlock(part));
    const body = (options.body ?? {}) as Partial<ChatData>;
    const data: ChatData = { ...this.options.defaults, ...converted, ...body, messages: converted.messages };
    // A continuation (a tool result sent back) extends the assistant message it continues.
    const last = options.messages[options.messages.length - 1];
    const messageIdOf = (requestId: string): string => (last?.role === 'assistant' ? last.id : `msg-${requestId}`);
    // Remembered for reconnectToStream as soon as it is accepted, not at its first event: the
    // model may think for seconds before its first token, and a reload then must find the answer.
    const stream = this.client.stream(data, {
      ...(options.abortSignal ? { signal: options.abortSignal } : {}),
      onAccepted: (resumeToken) => this.store.set(options.chatId, { requestId: stream.requestId, resumeToken, messageId: messageIdOf(stream.requestId) }),
    });
    // A refused request may name an attachment the gateway no longer has (expired, another
    // deployment): its files are uploaded afresh next time rather than referred to again.
    const attachments = attachmentIds(converted.messages);
    if (attachments.size > 0) {
      stream.done.catch((error: unknown) => {
        if (error instanceof GatewayError && error.code === 'invalid_request') this.uploaded.forget(attachments);
      });
    }
    return this.chunks(stream, messageIdOf(stream.requestId), options.chatId);
  }

  /**
   * What `useChat({ resume: true })` calls after a reload: the answer in flight from its start, or
   * null. Its `abortSignal` (the AI SDK aborts a resume it superseded) detaches the answer from
   * this page and leaves it running: it is not a stop.
   */
  async reconnectToStream(options: { chatId: string; abortSignal?: AbortSignal }): Promise<ReadableStream<Chunk> | null> {
    const inFlight = this.store.get(options.chatId);
    if (inFlight === undefined || options.abortSignal?.aborted) return null;
    const stream = this.client.resume({ requestId: inFlight.requestId, resumeToken: inFlight.resumeToken, fromSeq: 0 });
    options.abortSignal?.addEventListener('abort', () => this.client.detach(stream), { once: true });
    // Known to the gateway? Its first event (or its end) says; resume_unavailable means nothing to resume.
    const events = stream.events()[Symbol.asyncIterator]();
    let first: IteratorResult<StreamEvent>;
    try {
      first = await events.next();
    } catch (error) {
      // Only the answer's end forgets it: superseded (detached) or taken over elsewhere before its
      // first event, the answer goes on, and so does its record.
      if (endsTheAnswer(error)) this.forget(options.chatId, inFlight.requestId);
      // Nothing to resume; or the AI SDK gave up this resume itself (it discards what it gets).
      if (error instanceof GatewayError && (error.code === 'resume_unavailable' || error.code === 'detached')) return null;
      throw error;
    }
    return this.chunks(stream, inFlight.messageId, options.chatId, { events, first });
  }

  /** Closes the client this transport made (not one it was given). */
  close(): void {
    if (this.owned) void this.client.close();
  }

  /** Forgets the chat's record — if it still names `requestId` (a newer answer's is not this one's to forget). */
  private forget(chatId: string, requestId: string): void {
    if (this.store.get(chatId)?.requestId === requestId) this.store.delete(chatId);
  }

  private chunks(stream: GatewayStream, messageId: string, chatId: string, started?: { events: AsyncIterator<StreamEvent>; first: IteratorResult<StreamEvent> }): ReadableStream<Chunk> {
    const forget = (): void => this.forget(chatId, stream.requestId);
    const client = this.client;
    const smooth = this.options.smooth;
    let detached = false;
    return new ReadableStream<Chunk>({
      // The reader went away (a superseded resume, an unmounted page): the answer goes on, resumable.
      cancel() {
        detached = true;
        client.detach(stream);
      },
      async start(controller) {
        const writer = new ChunkWriter((chunk) => controller.enqueue(chunk));
        writer.start(messageId);
        // Whether the answer itself ended (not just this view of it): then its record goes.
        let ended = false;
        const source = started?.events ?? stream.events()[Symbol.asyncIterator]();
        async function* received(): AsyncGenerator<StreamEvent> {
          for (let next = started?.first ?? (await source.next()); !next.done; next = await source.next()) yield next.value;
        }
        try {
          for await (const event of smooth === false ? received() : smoothEvents(received(), smooth)) writer.event(event);
          writer.finish(await stream.done);
          ended = true;
        } catch (error) {
          detached ||= error instanceof GatewayError && error.code === 'detached';
          ended = endsTheAnswer(error);
          if (!detached) writer.fail(error);
        } finally {
          // Forget the answer once it ended; one detached or taken over elsewhere is still in flight, resumable.
          if (ended) forget();
          try {
            controller.close();
          } catch {
            // already cancelled by its reader
          }
        }
      },
    });
  }

  /**
   * A file part as a block: a small image inline, anything else uploaded (`llm/upload`) — once:
   * every later send of the conversation carries the part again and refers to that upload.
   */
  private async fileBlock(part: UiPart): Promise<ContentBlock> {
    const mediaType = part.mediaType ?? '';
    const url = part.url;
    const bytes = url !== undefined ? dataUrlBytes(url) : undefined;
    if (url === undefined || bytes === undefined) throw new GatewayError('invalid_request', 'A file part must carry its bytes as a data: URL (the gateway does not fetch URLs).');
    if (mediaType.startsWith('image/') && bytes.length <= INLINE_IMAGE_BYTES) {
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return { type: 'image', mediaType, data: btoa(binary) };
    }
    const name = part.filename || undefined;
    return this.uploaded.block({ bytes, url, mediaType, name }, async () => (await this.client.upload(bytes, { mediaType, ...(name ? { name } : {}) })).block);
  }
}

/** The uploaded attachments a request's messages refer to. */
function attachmentIds(messages: readonly ChatMessage[]): Set<string> {
  const ids = new Set<string>();
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const block of message.content) if ((block.type === 'image' || block.type === 'document') && block.attachmentId !== undefined) ids.add(block.attachmentId);
  }
  return ids;
}
