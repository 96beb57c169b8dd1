import type { AppDeps } from './app-deps';
import { Replies } from '../delivery/replies';
import { ActiveGenerations } from './active-generations';
import { ConnectionService } from './connection.service';
import { MessageService } from './message.service';
import { RateLimiter } from './rate-limit';
import { ResumeService } from './resume.service';
import { UploadService } from './upload.service';
import { ConversationService } from './conversation.service';
import { ConversationTurns } from './conversation-turn';

/** The services of one app instance, made once from its dependencies. */
export interface AppServices {
  readonly connections: ConnectionService;
  readonly messages: MessageService;
  readonly resumes: ResumeService;
  readonly uploads: UploadService;
  readonly conversations: ConversationService;
  /** The one way out to clients, and the one translation of failures into frames. */
  readonly replies: Replies;
  /** Shared with a worker in the same process (the emulator): its generations, its limits. */
  readonly active: ActiveGenerations;
  readonly limiter: RateLimiter;
}

export function createServices(deps: AppDeps): AppServices {
  const replies = new Replies(deps);
  // Generations running in this instance, so a cancel or $disconnect handled here stops them at once.
  const active = new ActiveGenerations();
  const limiter = new RateLimiter(deps.counters, deps.config.limits, deps.config.requestTtlSeconds);
  return {
    connections: new ConnectionService({
      connections: deps.connections,
      requests: deps.requests,
      streams: deps.streams,
      counters: deps.counters,
      active,
      connectionTtlSeconds: deps.config.connectionTtlSeconds,
      connectionsPerUser: deps.config.limits.connectionsPerUser,
      concurrentPerConnection: deps.config.limits.concurrentPerConnection,
      concurrentPerUser: deps.config.limits.concurrentPerUser,
      resumeGraceSeconds: deps.config.resume.graceSeconds,
    }),
    messages: new MessageService({ ...deps, active, limiter, replies, turns: new ConversationTurns(deps.conversations, deps.config, deps.counters) }),
    resumes: new ResumeService({ ...deps, limiter, replies }),
    uploads: new UploadService(deps),
    conversations: new ConversationService(deps),
    replies,
    active,
    limiter,
  };
}
