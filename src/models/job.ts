import { Type, type Static } from '@sinclair/typebox';
import { compileOnUse } from './compile-on-use';
import { checkJob } from './job-check.generated';
import { ChatMessageSchema, InferenceConfigSchema, ToolChoiceSchema, ToolSchema } from './protocol';

/**
 * A generation handed from the route handler (bound by API Gateway's 29 s integration timeout)
 * to a worker (bound only by its own timeout), through the queue. It carries everything the
 * worker needs, so the worker reads nothing else before it starts. `version` lets a worker of
 * one deployment refuse, rather than misread, a job written by another.
 */
/**
 * A conversation's turn (v1 addition, jobs of version 2): the worker reads the history, adds this
 * turn's messages at the indexes reserved for them and ends the conversation's running answer.
 */
export const JobConversationSchema = Type.Object({
  conversationId: Type.String({ minLength: 1 }),
  /** The first message index reserved for the turn: the user message's (unless regenerating), then the answer's. */
  firstIndex: Type.Integer({ minimum: 0 }),
  /** `send` adds `request.messages[0]`; `regenerate` answers the last user message again; `edit` drops the history from `editFrom` on, then sends. */
  kind: Type.Union([Type.Literal('send'), Type.Literal('regenerate'), Type.Literal('edit')]),
  editFrom: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The tokens the provider counted for the history at the last turn: the worker measures the history's fit by it. */
  historyTokens: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const JobSchema = Type.Object({
  /** 1: a whole history; 2: a conversation's turn — a worker that knows only 1 refuses it rather than answer without the history. */
  version: Type.Union([Type.Literal(1), Type.Literal(2)]),
  /** Unique per accepted request: the idempotency key the worker claims on the request's stream. */
  jobId: Type.String({ minLength: 1 }),
  mode: Type.Union([Type.Literal('stream'), Type.Literal('chat')]),
  connectionId: Type.String({ minLength: 1 }),
  requestId: Type.String({ minLength: 1 }),
  /** The request's stream (a hash of its resume token): where the answer goes and is logged. */
  streamKey: Type.String({ minLength: 1 }),
  /** When API Gateway received the client's frame (epoch ms): time to first token counts from here. */
  receivedAt: Type.Integer(),
  /** When the job was queued (epoch ms), for the QueueWait metric. */
  queuedAt: Type.Integer(),
  userId: Type.Optional(Type.String()),
  /** Whose attachments the request may read (the user, else the source IP): their keys carry it. */
  owner: Type.Optional(Type.String()),
  conversation: Type.Optional(JobConversationSchema),
  request: Type.Object({
    modelId: Type.String({ minLength: 1 }),
    /** The whole history (version 1), or what the turn adds to its conversation's (version 2: none for a regeneration). */
    messages: Type.Array(ChatMessageSchema),
    systemPrompt: Type.Optional(Type.String()),
    inferenceConfig: InferenceConfigSchema,
    tools: Type.Optional(Type.Array(ToolSchema)),
    toolChoice: Type.Optional(ToolChoiceSchema),
  }),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** The prompt's token estimate, to settle the reservation when the model reports no usage. */
  inputTokens: Type.Integer({ minimum: 0 }),
  /** What the rate limiter reserved (see AdmissionTicket), settled by the worker. */
  ticket: Type.Object({
    tokenKey: Type.Optional(Type.String()),
    reservedTokens: Type.Integer({ minimum: 0 }),
    windowExpiry: Type.Number(),
    slotId: Type.String({ minLength: 1 }),
    slots: Type.Array(Type.String()),
  }),
});

export type Job = Static<typeof JobSchema>;
export type JobConversation = Static<typeof JobConversationSchema>;
/** The request as the client sent it (attachments by id); the worker resolves it for the model. */
export type JobRequest = Job['request'];

const check = compileOnUse(JobSchema);

/** Why a queue message is not a job this worker can run (call it once `isJob` said no). */
export function jobProblem(value: unknown): string {
  const first = check().Errors(value).First();
  return first ? `${first.path || '/'}: ${first.message}` : 'not a job';
}

/**
 * The parts of a message that say which request it was queued for and what that request holds:
 * enough to end the request and release its limits when the rest is not a job this worker can run.
 */
export const JobIdentitySchema = Type.Object({
  jobId: JobSchema.properties.jobId,
  connectionId: JobSchema.properties.connectionId,
  requestId: JobSchema.properties.requestId,
  streamKey: JobSchema.properties.streamKey,
  ticket: JobSchema.properties.ticket,
});

export type JobIdentity = Static<typeof JobIdentitySchema>;

const identity = compileOnUse(JobIdentitySchema);

/** The request a queue message was written for, when it names one. */
export function jobIdentityOf(value: unknown): JobIdentity | undefined {
  return identity().Check(value) ? value : undefined;
}

/**
 * Whether a queue message is a job this worker can run: JobSchema's check, compiled ahead of time
 * (scripts/generate-checks.ts), so a cold worker's first job compiles nothing.
 */
export function isJob(value: unknown): value is Job {
  if (!checkJob(value)) return false;
  // What the schema cannot say: a whole history has a message; a conversation's turn is version 2.
  const job = value as Job;
  return job.version === 1 ? job.conversation === undefined && job.request.messages.length > 0 : job.conversation !== undefined;
}
