import type { ErrorCode } from './errors';
import type { Metadata } from './protocol';

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

export interface DoneFrame {
  type: 'done';
  requestId: string;
  /** The number of chunk frames sent before it, so a client can check it missed none. */
  seq: number;
  /** The model that answered: the one `accepted` named, or its configured fallback. */
  modelId: string;
  stopReason: string;
  usage: Usage;
  metrics: { timeToFirstTokenMs: number | null; totalMs: number };
  metadata?: Metadata;
}

export interface ResponseFrame {
  type: 'response';
  requestId: string;
  /** 0-based part number; answers above the message limit arrive in several parts. */
  part: number;
  parts: number;
  content: string;
  /** On the last part (`part === parts - 1`) always, on no other: the model that answered. */
  modelId?: string;
  /** On the last part always. */
  stopReason?: string;
  /** On the last part always. */
  usage?: Usage;
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

export interface PongFrame {
  type: 'pong';
  requestId?: string;
  serverTime: string;
}

export type ServerFrame = AcceptedFrame | ResumedFrame | ChunkFrame | DoneFrame | ResponseFrame | ErrorFrame | PongFrame;
