import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from './limits';
import { ChatMessageSchema, ToolChoiceSchema, ToolSchema } from './content-schemas';
import { CONVERSATION_ACTIONS, ConversationIdSchema, ConversationTurnSchema } from './conversation-protocol';

export * from './content-schemas';
export * from './conversation-protocol';

/**
 * Wire protocol v1, client → server. These TypeBox schemas are the single source of truth:
 * the TypeScript types below are derived from them and the validator is compiled from them.
 * `errorMessage` replaces TypeBox's generic text where a client deserves a precise one.
 * Lengths are limits in characters (code points); a schema's `maxLength` counts UTF-16 code
 * units, so it holds twice the limit as a cheap upper bound and validate.ts applies the exact
 * rule (see `TEXT_FIELDS` there).
 */

export const CLIENT_ACTIONS = ['llm/stream', 'llm/chat', 'message', 'llm/cancel', 'llm/resume', 'llm/upload', 'ping', ...CONVERSATION_ACTIONS] as const;
export type ClientAction = (typeof CLIENT_ACTIONS)[number];

const RequestId = Type.String({
  pattern: LIMITS.requestIdPattern,
  errorMessage: 'must be 1-64 characters of A-Z a-z 0-9 . _ : -',
});


export const InferenceConfigSchema = Type.Object(
  {
    maxTokens: Type.Optional(Type.Integer({ minimum: 1, errorMessage: 'must be a positive integer' })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1, errorMessage: 'must be a number from 0 to 1' })),
    topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1, errorMessage: 'must be a number from 0 to 1' })),
    stopSequences: Type.Optional(
      Type.Array(
        Type.String({
          minLength: 1,
          maxLength: 2 * LIMITS.maxStopSequenceChars,
          errorMessage: `must be a non-empty string of at most ${LIMITS.maxStopSequenceChars} characters`,
        }),
        { maxItems: LIMITS.maxStopSequences, errorMessage: `must be an array of at most ${LIMITS.maxStopSequences} strings` },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ChatDataSchema = Type.Object(
  {
    /** The whole conversation (stateless); a conversation's turn sends `conversationId` and `message` instead. */
    messages: Type.Optional(
      Type.Array(ChatMessageSchema, {
        minItems: 1,
        maxItems: LIMITS.maxMessages,
        errorMessage: `must be an array of 1 to ${LIMITS.maxMessages} messages`,
      }),
    ),
    ...ConversationTurnSchema,
    modelId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2 * LIMITS.maxModelIdChars,
        errorMessage: `must be a non-empty string of at most ${LIMITS.maxModelIdChars} characters`,
      }),
    ),
    systemPrompt: Type.Optional(
      Type.String({
        maxLength: 2 * LIMITS.maxSystemPromptChars,
        errorMessage: `must be a string of at most ${LIMITS.maxSystemPromptChars} characters`,
      }),
    ),
    inferenceConfig: Type.Optional(InferenceConfigSchema),
    tools: Type.Optional(
      Type.Array(ToolSchema, { minItems: 1, maxItems: LIMITS.maxTools, errorMessage: `must be an array of 1 to ${LIMITS.maxTools} tools` }),
    ),
    toolChoice: Type.Optional(ToolChoiceSchema),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { errorMessage: 'must be a JSON object' })),
  },
  { additionalProperties: false },
);

export const ChatRequestFrameSchema = Type.Object(
  {
    action: Type.Union([Type.Literal('llm/stream'), Type.Literal('llm/chat'), Type.Literal('message')]),
    requestId: Type.Optional(RequestId),
    data: ChatDataSchema,
  },
  { additionalProperties: false },
);

/** A resume token as `accepted` gives it: 192 random bits, base64url (longer or shorter ones are refused). */
const ResumeToken = Type.String({ pattern: '^[A-Za-z0-9_-]{16,128}$', errorMessage: 'must be the resumeToken of the request’s accepted frame' });

export const CancelFrameSchema = Type.Object(
  {
    action: Type.Literal('llm/cancel'),
    /** The id of the request to cancel: one this connection holds, or the one `data.resumeToken` names. */
    requestId: RequestId,
    /**
     * With the request's resume token, cancel reaches it wherever its answer goes now — what a
     * client that lost its connection sends from the next one (v1 addition).
     */
    data: Type.Optional(
      Type.Object(
        {
          resumeToken: Type.Optional(ResumeToken),
          /** Instead of the token (v1 addition): the conversation whose running answer `requestId` is — its owner may cancel it from any connection. */
          conversationId: Type.Optional(ConversationIdSchema),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ResumeFrameSchema = Type.Object(
  {
    action: Type.Literal('llm/resume'),
    /** The id of the request to resume, as it was accepted. */
    requestId: RequestId,
    data: Type.Object(
      {
        /** The token of the request's `accepted` frame — or, instead (v1 addition), the conversation whose running answer `requestId` is. Exactly one of the two. */
        resumeToken: Type.Optional(ResumeToken),
        conversationId: Type.Optional(ConversationIdSchema),
        /** The first chunk seq the client has not seen (0 = everything). */
        fromSeq: Type.Integer({ minimum: 0, maximum: 1_000_000_000, errorMessage: 'must be a chunk seq: an integer of 0 or more' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** `llm/upload` (v1 addition): asks for a presigned URL to upload one attachment to. */
export const UploadFrameSchema = Type.Object(
  {
    action: Type.Literal('llm/upload'),
    requestId: Type.Optional(RequestId),
    data: Type.Object(
      {
        mediaType: Type.String({ minLength: 1, maxLength: 255, errorMessage: 'must be a media type, e.g. image/png or application/pdf' }),
        /** The file's exact size in bytes: the URL accepts that length only. */
        size: Type.Integer({ minimum: 1, maximum: 1024 ** 3, errorMessage: 'must be the file’s size in bytes, a positive integer' }),
        name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.maxAttachmentNameChars, errorMessage: `must be 1 to ${LIMITS.maxAttachmentNameChars} characters` })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const PingFrameSchema = Type.Object(
  {
    action: Type.Literal('ping'),
    requestId: Type.Optional(RequestId),
  },
  { additionalProperties: false },
);

export type UploadFrame = Static<typeof UploadFrameSchema>;
export type InferenceConfig = Static<typeof InferenceConfigSchema>;
export type ChatData = Static<typeof ChatDataSchema>;
export type ChatRequestFrame = Static<typeof ChatRequestFrameSchema>;
export type CancelFrame = Static<typeof CancelFrameSchema>;
export type PingFrame = Static<typeof PingFrameSchema>;
export type ResumeFrame = Static<typeof ResumeFrameSchema>;
export type Metadata = Record<string, unknown>;
