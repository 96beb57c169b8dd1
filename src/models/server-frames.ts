import type { ErrorCode } from './errors';
import type { ContentBlock, Metadata } from './protocol';

/** Wire protocol v1, server → client: one JSON object per message. */

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Present (true) when the provider reported no usage and these counts are the gateway's estimate. */
  estimated?: true;
}

export interface AcceptedFrame {
  type: 'accepted';
  requestId: string;
  modelId: string;
  /** The capability to resume this request on another connection (llm/resume); never logged. */
  resumeToken: string;
}

/**
 * The first frame of a resume that was taken (v1 addition): what follows is every chunk with
 * `seq ≥ fromSeq`, the live rest and one terminal frame. Clients that do not know it ignore it.
 */
export interface ResumedFrame {
  type: 'resumed';
  requestId: string;
  /** The first chunk seq that follows (0 for an `llm/chat` answer, which is replayed whole). */
  fromSeq: number;
}

export interface ChunkFrame {
  type: 'chunk';
  requestId: string;
  /** 0, 1, 2, … contiguous within one request. */
  seq: number;
  content: string;
}

/**
 * A piece of a tool call's input, while the answer streams (v1 addition; only requests that
 * declare tools, or carry tool blocks, receive it). It shares `seq` with `chunk` frames, so
 * resume and `fromSeq` work unchanged. A call's `inputDelta`s joined are its input as JSON text;
 * frames of different calls are never merged.
 */
export interface ToolUseFrame {
  type: 'tool_use';
  requestId: string;
  /** The same sequence as chunk frames: 0, 1, 2, … across both. */
  seq: number;
  /** The call's id: what the `tool_result` answering it names. */
  toolUseId: string;
  /** The tool called. */
  name: string;
  /** The next piece of the call's input JSON (may be empty in a call's first frame). */
  inputDelta: string;
}

/** A complete tool call, as `done` and the last `response` part list them. */
export interface ToolUse {
  toolUseId: string;
  name: string;
  /** The call's input, parsed (an empty input is `{}`). */
  input: Record<string, unknown>;
}

/**
 * A complete tool call listed without its input (v1 addition): the input did not fit in the
 * terminal frame beside the others (a frame holds at most 128 KB). Its input is the call's
 * `inputDelta`s joined — in `tool_use` frames (`llm/stream`) or in `response` parts
 * (`llm/chat`), which the frame's sender already got — and parses as a JSON object.
 */
export interface OmittedToolUse {
  toolUseId: string;
  name: string;
  inputOmitted: true;
}

/** An entry of `toolUses`: a call with its input, or one whose input came in earlier frames. */
export type ToolUseEntry = ToolUse | OmittedToolUse;

export interface DoneFrame {
  type: 'done';
  requestId: string;
  /** The number of seq-numbered frames (chunks and tool calls) sent before it, so a client can check it missed none. */
  seq: number;
  /** The model that answered: the one `accepted` named, or its configured fallback. */
  modelId: string;
  stopReason: string;
  usage: Usage;
  metrics: { timeToFirstTokenMs: number | null; totalMs: number };
  /**
   * The model's tool calls, in order, when it made any (stopReason `tool_use`): each complete,
   * its input parsed — or, for an input too large to repeat here, `inputOmitted` (see {@link OmittedToolUse}).
   */
  toolUses?: ToolUseEntry[];
  /** A conversation's turn (v1 addition): where it was kept. */
  conversation?: TurnKept;
  metadata?: Metadata;
}

/** Where a conversation's turn was kept, as its terminal frame says (v1 addition). */
export interface TurnKept {
  conversationId: string;
  /** The user message the turn added (absent for a regeneration). */
  userMessageId?: string;
  /** The answer, as kept — also when it was cut short. */
  messageId: string;
  /** Messages of the history left out of the model call to fit its context window (the oldest first). */
  droppedMessages: number;
}

export interface ResponseFrame {
  type: 'response';
  requestId: string;
  /** 0-based part number; answers above the message limit arrive in several parts. */
  part: number;
  parts: number;
  /** A piece of the answer's text (join them in `part` order); '' in a part that carries a tool call's input. */
  content: string;
  /**
   * A part before the last may carry a piece of a tool call's input instead of text (v1
   * addition): the call the last part lists with `inputOmitted`. A call's pieces, joined in
   * `part` order, are its input as JSON text.
   */
  toolUseId?: string;
  /** With `toolUseId`: the tool called. */
  name?: string;
  /** With `toolUseId`: the next piece of the call's input JSON. */
  inputDelta?: string;
  /** On the last part (`part === parts - 1`) always, on no other: the model that answered. */
  modelId?: string;
  /** On the last part always. */
  stopReason?: string;
  /** On the last part always. */
  usage?: Usage;
  /** On the last part, when the model called tools: as in `done`. */
  toolUses?: ToolUseEntry[];
  /** On the last part of a conversation's turn: as in `done`. */
  conversation?: TurnKept;
  metadata?: Metadata;
}

export interface ErrorFrame {
  type: 'error';
  /** The request this error ends; absent when the error ends no request. */
  requestId?: string;
  /** The id a refused frame named, when the refusal ends no request (duplicate id, cancel, ping). */
  refusedRequestId?: string;
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  /** For unknown_action: the actions the server knows. */
  validActions?: readonly string[];
}

/**
 * The answer to `llm/upload` (v1 addition): PUT the file's bytes to `url` with `headers` (and
 * exactly `size` bytes) before `expiresAt`, then refer to it as `{ "type": "image" | "document",
 * "attachmentId" }` in a user turn.
 */
export interface UploadFrame {
  type: 'upload';
  requestId: string;
  attachmentId: string;
  url: string;
  method: 'PUT';
  /** Headers the PUT must carry as they are (they are signed). */
  headers: Record<string, string>;
  /** ISO 8601: the URL is refused after it. */
  expiresAt: string;
  /** The size the URL accepts: the one declared. */
  maxBytes: number;
}

/** A conversation, as the `conv/*` frames show it (v1 addition). */
export interface ConversationView {
  conversationId: string;
  title: string;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  messageCount: number;
  lastModelId?: string;
  /** The answer it is running now: `llm/resume` with `conversationId` picks it up. */
  running?: { requestId: string };
}

/** The answer to `conv/create` and `conv/rename`. */
export interface ConversationFrame {
  type: 'conversation';
  requestId: string;
  conversation: ConversationView;
}

/** One page of `conv/list`, newest first; `cursor` asks for the next. */
export interface ConversationsFrame {
  type: 'conversations';
  requestId: string;
  items: ConversationView[];
  cursor?: string;
}

/**
 * In a message sent in parts: a tool call whose input does not fit one frame is listed with
 * `input: {}` and `inputOmitted: true`, and its input JSON follows in `tool_input` pieces (in the
 * same or later parts) — joined in order, they are the call's input.
 */
export interface ToolInputPiece {
  type: 'tool_input';
  toolUseId: string;
  inputDelta: string;
}

/** A block of a message as `conv/get` shows it: a content block, or a piece of a large tool input. */
export type ViewBlock = ContentBlock | (Extract<ContentBlock, { type: 'tool_use' }> & { inputOmitted: true }) | ToolInputPiece;

/** A message of a conversation, as `conv/get` shows it. */
export interface MessageView {
  messageId: string;
  role: 'user' | 'assistant';
  content: string | ViewBlock[];
  createdAt: string;
  /** The request that wrote it. */
  requestId: string;
  /** An answer's end: `complete`, or cut short — `cancelled`, `failed`, `interrupted` — holding what was sent. */
  status?: 'complete' | 'cancelled' | 'failed' | 'interrupted';
  usage?: Usage;
  modelId?: string;
  stopReason?: string;
}

/**
 * A page of `conv/get`. A page never exceeds one frame; a message too large for one arrives in
 * parts (`part`, `parts`, each frame one piece of its `content`): join the parts' content blocks
 * in order — consecutive text blocks join as one text.
 */
export interface MessagesFrame {
  type: 'messages';
  requestId: string;
  conversationId: string;
  items: MessageView[];
  /** The next page's cursor, on the page's last frame, when there is one. */
  cursor?: string;
  /** The answer the conversation runs now (`llm/resume` with `conversationId` picks it up). */
  running?: { requestId: string };
  part?: number;
  parts?: number;
}

/** The answer to `conv/delete`: the conversation, its messages and its attachments are gone. */
export interface DeletedFrame {
  type: 'deleted';
  requestId: string;
  conversationId: string;
}

export interface PongFrame {
  type: 'pong';
  requestId?: string;
  serverTime: string;
}

export type ServerFrame =
  | AcceptedFrame
  | ResumedFrame
  | ChunkFrame
  | ToolUseFrame
  | DoneFrame
  | ResponseFrame
  | ErrorFrame
  | UploadFrame
  | PongFrame
  | ConversationFrame
  | ConversationsFrame
  | MessagesFrame
  | DeletedFrame;

/** The frames that carry a `seq`: what the resume log replays from `fromSeq`. */
export type SeqFrame = ChunkFrame | ToolUseFrame;
