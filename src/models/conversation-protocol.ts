import { Type, type Static } from '@sinclair/typebox';
import { ChatMessageSchema, ToolChoiceSchema, ToolSchema } from './content-schemas';
import { LIMITS } from './limits';

/**
 * Wire protocol v1, conversations kept on the server (v1 addition): the `conv/*` actions, and
 * what `llm/stream` / `llm/chat` take to send a conversation's next turn. Part of protocol.ts,
 * which re-exports it; the same rules for lengths apply.
 */

export const CONVERSATION_ACTIONS = ['conv/create', 'conv/list', 'conv/get', 'conv/rename', 'conv/delete'] as const;

const RequestId = Type.String({ pattern: LIMITS.requestIdPattern, errorMessage: 'must be 1-64 characters of A-Z a-z 0-9 . _ : -' });

/** A conversation's id, as `conv/create` gives it: `c_` then its creation time and 96 random bits. */
export const ConversationIdSchema = Type.String({ pattern: LIMITS.conversationIdPattern, errorMessage: 'must be a conversationId as conv/create gave it' });

/** A message of a conversation, as `conv/get` names it. */
export const MessageIdSchema = Type.String({ pattern: '^m[0-9]{1,9}$', errorMessage: 'must be a messageId as conv/get gave it' });

const Title = Type.String({ minLength: 1, maxLength: 2 * LIMITS.maxTitleChars, errorMessage: `must be 1 to ${LIMITS.maxTitleChars} characters` });
const Cursor = Type.String({ minLength: 1, maxLength: 128, errorMessage: 'must be the cursor a previous page gave' });
const Limit = Type.Integer({ minimum: 1, maximum: 100, errorMessage: 'must be an integer from 1 to 100' });

/** What a conversation keeps for its turns (a turn's own fields win). */
export const ConversationDefaultsSchema = Type.Object(
  {
    title: Type.Optional(Title),
    systemPrompt: Type.Optional(Type.String({ maxLength: 2 * LIMITS.maxSystemPromptChars, errorMessage: `must be a string of at most ${LIMITS.maxSystemPromptChars} characters` })),
    modelId: Type.Optional(Type.String({ minLength: 1, maxLength: 2 * LIMITS.maxModelIdChars, errorMessage: `must be a non-empty string of at most ${LIMITS.maxModelIdChars} characters` })),
    tools: Type.Optional(Type.Array(ToolSchema, { minItems: 1, maxItems: LIMITS.maxTools, errorMessage: `must be an array of 1 to ${LIMITS.maxTools} tools` })),
    toolChoice: Type.Optional(ToolChoiceSchema),
  },
  { additionalProperties: false },
);

const frame = <A extends string, D extends ReturnType<typeof Type.Object>>(action: A, data: D, dataOptional: boolean) =>
  Type.Object({ action: Type.Literal(action), requestId: Type.Optional(RequestId), data: dataOptional ? Type.Optional(data) : data }, { additionalProperties: false });

export const ConvCreateFrameSchema = frame('conv/create', ConversationDefaultsSchema, true);
export const ConvListFrameSchema = frame('conv/list', Type.Object({ cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) }, { additionalProperties: false }), true);
export const ConvGetFrameSchema = frame(
  'conv/get',
  Type.Object(
    {
      conversationId: ConversationIdSchema,
      cursor: Type.Optional(Cursor),
      limit: Type.Optional(Limit),
      order: Type.Optional(Type.Union([Type.Literal('oldest'), Type.Literal('newest')], { errorMessage: 'must be "oldest" or "newest"' })),
    },
    { additionalProperties: false },
  ),
  false,
);
export const ConvRenameFrameSchema = frame('conv/rename', Type.Object({ conversationId: ConversationIdSchema, title: Title }, { additionalProperties: false }), false);
export const ConvDeleteFrameSchema = frame('conv/delete', Type.Object({ conversationId: ConversationIdSchema }, { additionalProperties: false }), false);

/**
 * The fields of `llm/stream` / `llm/chat` data that send a conversation's next turn instead of a
 * whole history: only what is new — one user message (or the tool results answering the last
 * answer's calls) — or `regenerate` the last answer, or `editFrom` a user message of it.
 */
export const ConversationTurnSchema = {
  conversationId: Type.Optional(ConversationIdSchema),
  message: Type.Optional(ChatMessageSchema),
  regenerate: Type.Optional(Type.Literal(true, { errorMessage: 'must be true (or left out)' })),
  editFrom: Type.Optional(MessageIdSchema),
};

export type ConversationDefaultsInput = Static<typeof ConversationDefaultsSchema>;
export type ConvCreateFrame = Static<typeof ConvCreateFrameSchema>;
export type ConvListFrame = Static<typeof ConvListFrameSchema>;
export type ConvGetFrame = Static<typeof ConvGetFrameSchema>;
export type ConvRenameFrame = Static<typeof ConvRenameFrameSchema>;
export type ConvDeleteFrame = Static<typeof ConvDeleteFrameSchema>;
