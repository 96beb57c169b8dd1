import { GatewayClient } from '../client.js';
import { GatewayError } from '../errors.js';
import type { ChatData, ChatMessage, ContentBlock } from '../protocol.generated.js';
import type { GatewayStream, StreamEvent } from '../request.js';
import type { GatewayClientOptions } from '../types.js';
import { ChunkWriter, type Chunk } from './chunks.js';
import { dataUrlBytes, toConversationTurn, toGatewayRequest, type UiMessage, type UiPart } from './messages.js';
import { RunningAnswers, type ResumableStorage } from './running-answers.js';
import { ATTACHMENT_URL_PREFIX } from './conversation-messages.js';
import { endsTheAnswer } from './answer-ended.js';
import { defaultResumeStore, type ResumeStore } from './resume-store.js';
import { smoothEvents, type SmoothOptions } from '../smooth.js';
import { UploadedFiles } from './uploaded-files.js';

/**
 * Images this small go inline in the message; larger files are uploaded first. 16 KB of image is
 * about 22 KB of base64: it leaves room in the 32 KB a browser's message may be (API Gateway's
 * frame limit; a browser cannot split a message), beside the text.
 */
const INLINE_IMAGE_BYTES = 16 * 1024;

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
  /**
   * Conversations kept on the gateway: the chat's id (`useChat({ id })`) is the conversation's
   * (`client.conversations.create()`'s), each send carries only the new message (or the results
   * of the tools the last answer called), `regenerate()` asks the gateway for a new last answer,
   * an edit (`sendMessage({ text, messageId })`) replaces the message and all after it, and
   * `reconnectToStream` asks the gateway for the answer the conversation runs — nothing is kept
   * in the page. `loadMessages()` gives the history for `useChat({ messages })`.
   */
  readonly conversations?: boolean;
  /**
   * As `conversations`, with the conversation named here instead of by the chat's id: for a UI
   * that makes its own chat ids (assistant-ui gives each load a new thread id). A function maps
   * a chat id to its conversation.
   */
  readonly conversationId?: string | ((chatId: string) => string);
}

/** The request fields a turn may carry beside its message (a request's `body`, the `defaults`). */
const TURN_FIELDS = ['modelId', 'systemPrompt', 'inferenceConfig', 'tools', 'toolChoice', 'metadata'] as const;
const KEPT_ID = /^m\d{1,9}$/;

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
  /** In a conversation: the gateway's id of each UI message this transport sent or streamed (for edits). */
  private readonly keptIds = new Map<string, string>();
  /** In a conversation: the request that sent each user message (to find its id when its answer never ended). */
  private readonly sentBy = new Map<string, string>();
  /** In a conversation: the answers running when a page loaded (assistant-ui's resumable storage). */
  private readonly running: RunningAnswers;

  constructor(private readonly options: GatewayChatTransportOptions) {
    if (options.client === undefined && options.url === undefined) throw new TypeError('GatewayChatTransport needs a client or a url');
    this.client = options.client ?? new GatewayClient({ ...options, url: options.url! });
    this.owned = options.client === undefined;
    this.store = options.resumeStore ?? defaultResumeStore();
    this.running = new RunningAnswers(
      (chatId) => this.conversationOf(chatId),
      async (conversationId) => (await this.client.conversations.get(conversationId, { order: 'newest', limit: 1 })).running?.requestId,
    );
  }

  /** The conversation a chat is, when this transport keeps them on the gateway (`conversations`, `conversationId`). */
  conversationOf(chatId: string): string | undefined {
    const { conversationId, conversations } = this.options;
    if (typeof conversationId === 'function') return conversationId(chatId);
    if (conversationId !== undefined) return conversationId;
    return conversations === true ? chatId : undefined;
  }

  async sendMessages(options: SendOptions): Promise<ReadableStream<Chunk>> {
    const conversationId = this.conversationOf(options.chatId);
    if (conversationId !== undefined) return this.sendTurn(conversationId, options);
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
    const conversationId = this.conversationOf(options.chatId);
    if (conversationId !== undefined) return this.reconnectToConversation(conversationId, options);
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

  /**
   * For assistant-ui's AI SDK runtime (`useChatRuntime`), which resumes a thread's answer when
   * its transport's resumable storage names one: in a conversation, the answer the gateway says
   * it runs when the thread mounts (asked once, with `conv/get`); undefined otherwise.
   */
  getResumableAdapter(): { readonly storage: ResumableStorage } | undefined {
    return this.options.conversations === true || this.options.conversationId !== undefined ? { storage: this.running } : undefined;
  }

  /** Closes the client this transport made (not one it was given). */
  close(): void {
    if (this.owned) void this.client.close();
  }

  /**
   * A turn of a conversation kept on the gateway: only what is new. `regenerate()` is
   * `regenerate: true`; `regenerate({ messageId })` of an earlier answer asks its question again
   * (an edit from it with the same message); an edit (`sendMessage({ messageId })`) is `editFrom`.
   */
  private async sendTurn(conversationId: string, options: SendOptions): Promise<ReadableStream<Chunk>> {
    const given: Partial<ChatData> = { ...this.options.defaults, ...(options.body as Partial<ChatData> | undefined) };
    const fields: Partial<ChatData> = Object.fromEntries(TURN_FIELDS.flatMap((key) => (given[key] !== undefined ? [[key, given[key]]] : [])));
    const last = options.messages[options.messages.length - 1];
    let data: ChatData;
    if (options.trigger === 'regenerate-message' && options.messageId === undefined) {
      data = { ...fields, conversationId, regenerate: true };
    } else {
      const turn = await toConversationTurn(options.messages, (part) => this.fileBlock(part));
      const edit = last?.role === 'user' && options.messageId !== undefined && (options.trigger === 'regenerate-message' || options.messageId === last.id);
      const editFrom = edit ? await this.keptIdOf(conversationId, last.id) : undefined;
      data = { ...fields, ...(turn.systemPrompt !== undefined ? { systemPrompt: turn.systemPrompt } : {}), conversationId, message: turn.message, ...(editFrom !== undefined ? { editFrom } : {}) };
    }
    const stream = this.client.stream(data, options.abortSignal ? { signal: options.abortSignal } : {});
    const question = last?.role === 'user' ? last.id : undefined;
    if (question !== undefined) this.sentBy.set(question, stream.requestId);
    // A continuation (tool results sent back) extends the assistant message it continues.
    const messageId = last?.role === 'assistant' ? last.id : `msg-${stream.requestId}`;
    stream.done.then(
      ({ conversation }) => {
        if (conversation === undefined) return;
        if (question !== undefined && conversation.userMessageId !== undefined) this.keptIds.set(question, conversation.userMessageId);
        if (!this.keptIds.has(messageId)) this.keptIds.set(messageId, conversation.messageId);
      },
      () => undefined,
    );
    const attachments = data.message !== undefined ? attachmentIds([data.message]) : new Set<string>();
    if (attachments.size > 0) {
      stream.done.catch((error: unknown) => {
        if (error instanceof GatewayError && error.code === 'invalid_request') this.uploaded.forget(attachments);
      });
    }
    return this.chunks(stream, messageId, undefined);
  }

  /**
   * The gateway's id of a UI user message: a loaded one's is its id; one this transport sent,
   * from its answer's end — or, when that never came (stopped, failed), found by the request that sent it.
   */
  private async keptIdOf(conversationId: string, uiId: string): Promise<string> {
    const known = this.keptIds.get(uiId) ?? (KEPT_ID.test(uiId) ? uiId : undefined);
    if (known !== undefined) return known;
    const requestId = this.sentBy.get(uiId);
    let cursor: string | undefined;
    do {
      if (requestId === undefined) break;
      const page = await this.client.conversations.get(conversationId, { order: 'newest', limit: 100, ...(cursor !== undefined ? { cursor } : {}) });
      const found = page.items.find((m) => m.role === 'user' && m.requestId === requestId);
      if (found !== undefined) return found.messageId;
      cursor = page.cursor;
    } while (cursor !== undefined);
    throw new GatewayError('invalid_request', `The message "${uiId}" is not one the conversation keeps: it cannot be edited.`);
  }

  /** The answer the conversation runs, from its start (`resumeStreamIsReplay`), or null when it runs none. */
  private async reconnectToConversation(conversationId: string, options: { chatId: string; abortSignal?: AbortSignal }): Promise<ReadableStream<Chunk> | null> {
    if (options.abortSignal?.aborted) return null;
    const stream = await this.client.conversations.resume(conversationId, { fromSeq: 0 });
    if (stream === null) {
      this.running.ended(conversationId);
      return null;
    }
    if (options.abortSignal?.aborted) {
      this.client.detach(stream);
      return null;
    }
    options.abortSignal?.addEventListener('abort', () => this.client.detach(stream), { once: true });
    const events = stream.events()[Symbol.asyncIterator]();
    let first: IteratorResult<StreamEvent>;
    try {
      first = await events.next();
    } catch (error) {
      // Ended in between (its message is kept: a reload shows it), or superseded by the AI SDK.
      if (error instanceof GatewayError && error.code === 'resume_unavailable') this.running.ended(conversationId);
      if (error instanceof GatewayError && (error.code === 'resume_unavailable' || error.code === 'detached')) return null;
      throw error;
    }
    stream.done.then(
      () => this.running.ended(conversationId),
      (error: unknown) => {
        if (endsTheAnswer(error)) this.running.ended(conversationId);
      },
    );
    // A new UI message, after the loaded ones: the answer replays from its start (a tool step's
    // answer too — continuing the loaded message would replace its earlier steps).
    return this.chunks(stream, `msg-${stream.requestId}`, undefined, { events, first });
  }

  /** Forgets the chat's record — if it still names `requestId` (a newer answer's is not this one's to forget). */
  private forget(chatId: string, requestId: string): void {
    if (this.store.get(chatId)?.requestId === requestId) this.store.delete(chatId);
  }

  /** The stream's chunks; `chatId` names the resume record to forget when the answer ends (none in a conversation). */
  private chunks(stream: GatewayStream, messageId: string, chatId: string | undefined, started?: { events: AsyncIterator<StreamEvent>; first: IteratorResult<StreamEvent> }): ReadableStream<Chunk> {
    const forget = (): void => {
      if (chatId !== undefined) this.forget(chatId, stream.requestId);
    };
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
    // A file loaded from a conversation (loadMessages): the attachment the gateway already has.
    if (url?.startsWith(ATTACHMENT_URL_PREFIX)) {
      const attachmentId = url.slice(ATTACHMENT_URL_PREFIX.length);
      return mediaType.startsWith('image/') ? { type: 'image', attachmentId } : { type: 'document', attachmentId, ...(part.filename ? { name: part.filename } : {}) };
    }
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
