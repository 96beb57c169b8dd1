import type { ServerFrame } from '../models/server-frames';
import type { ConnectionService } from '../services/connection.service';
import type { Caller } from '../models/caller';
import type { MessageService } from '../services/message.service';
import type { ResumeService } from '../services/resume.service';
import type { UploadService } from '../services/upload.service';
import type { ConversationService } from '../services/conversation.service';
import type { WsEvent } from '../utils/lambda';

/** The services a route handler may call. */
export interface Services {
  readonly connections: ConnectionService;
  readonly messages: MessageService;
  readonly resumes: ResumeService;
  readonly uploads: UploadService;
  readonly conversations: ConversationService;
}

export interface RouteContext {
  readonly event: WsEvent;
  readonly caller: Caller;
  /** The message, parsed once by Fastify's JSON parser (MESSAGE events; undefined otherwise). */
  readonly body: unknown;
}

/** What a handler returns: an HTTP status for API Gateway and, optionally, one frame to send back. */
export interface RouteResult {
  readonly statusCode?: number;
  readonly reply?: ServerFrame;
  /** Several frames, sent in order (instead of `reply`). */
  readonly replies?: readonly ServerFrame[];
}

/**
 * A thin handler: validate, call a service, return data. Throwing is how a handler reports a
 * failure; the routes' one error handler turns it into an `error` frame or a status.
 */
export type RouteHandler = (context: RouteContext, services: Services) => Promise<RouteResult>;
