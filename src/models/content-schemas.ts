import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from './limits';

/**
 * Wire protocol v1, the content of a message (v1 additions beside a plain string): content
 * blocks — text, tool calls and results, images and documents — and the tools a model may call.
 * Part of protocol.ts, which re-exports it; the same rules for lengths apply (see there).
 */

const NamePattern = { pattern: LIMITS.toolNamePattern, errorMessage: 'must be 1-64 characters of A-Z a-z 0-9 _ -' };
const ToolName = Type.String(NamePattern);
/** The id a model gave a tool call (Bedrock's `toolUseId`, OpenAI's `tool_calls[].id`). */
const ToolUseId = Type.String(NamePattern);
const Text = (rule: string) => Type.String({ minLength: 1, maxLength: 2 * LIMITS.maxMessageChars, errorMessage: rule });
const TEXT_RULE = `must be a non-empty string of at most ${LIMITS.maxMessageChars} characters`;

/** Text in a message: what a plain string `content` is, as a block. */
export const TextBlockSchema = Type.Object({ type: Type.Literal('text'), text: Text(TEXT_RULE) }, { additionalProperties: false });

/** A call the model made, in an assistant turn of the history (v1 addition). */
export const ToolUseBlockSchema = Type.Object(
  {
    type: Type.Literal('tool_use'),
    toolUseId: ToolUseId,
    name: ToolName,
    input: Type.Record(Type.String(), Type.Unknown(), { errorMessage: 'must be a JSON object (the call’s arguments)' }),
  },
  { additionalProperties: false },
);

/** The answer to a call, in the user turn after it (v1 addition). */
export const ToolResultBlockSchema = Type.Object(
  {
    type: Type.Literal('tool_result'),
    toolUseId: ToolUseId,
    content: Type.Union(
      [
        Type.String({ maxLength: 2 * LIMITS.maxMessageChars }),
        Type.Array(TextBlockSchema, { minItems: 1, maxItems: LIMITS.maxContentBlocks }),
      ],
      { errorMessage: 'must be a string or an array of text blocks' },
    ),
    /** The tool failed; `content` says how. */
    isError: Type.Optional(Type.Boolean({ errorMessage: 'must be true or false' })),
  },
  { additionalProperties: false },
);

const AttachmentId = Type.String({ pattern: LIMITS.attachmentIdPattern, errorMessage: 'must be the attachmentId of an `upload` frame' });

/**
 * An image in a user turn (v1 addition): an uploaded one (`attachmentId`), or a small one inline
 * (`mediaType` and base64 `data`) — exactly one of the two (validate-content.ts says which is missing).
 */
export const ImageBlockSchema = Type.Object(
  {
    type: Type.Literal('image'),
    attachmentId: Type.Optional(AttachmentId),
    mediaType: Type.Optional(Type.String({ maxLength: 64, errorMessage: 'must be image/png, image/jpeg, image/gif or image/webp' })),
    data: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: Math.ceil(LIMITS.maxInlineImageBytes / 3) * 4, errorMessage: `must be base64 of at most ${LIMITS.maxInlineImageBytes} bytes` }),
    ),
  },
  { additionalProperties: false },
);

/** An uploaded document (PDF, text, Word, Excel…) in a user turn (v1 addition). */
export const DocumentBlockSchema = Type.Object(
  {
    type: Type.Literal('document'),
    attachmentId: AttachmentId,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.maxAttachmentNameChars, errorMessage: `must be 1 to ${LIMITS.maxAttachmentNameChars} characters` })),
  },
  { additionalProperties: false },
);

export const ContentBlockSchema = Type.Union([TextBlockSchema, ToolUseBlockSchema, ToolResultBlockSchema, ImageBlockSchema, DocumentBlockSchema]);

/** The block types, each with its schema, for precise errors (validate-content.ts). */
export const CONTENT_BLOCK_SCHEMAS = {
  text: TextBlockSchema,
  tool_use: ToolUseBlockSchema,
  tool_result: ToolResultBlockSchema,
  image: ImageBlockSchema,
  document: DocumentBlockSchema,
} as const;

export const ChatMessageSchema = Type.Object(
  {
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant')], {
      errorMessage: 'must be "user" or "assistant"',
    }),
    content: Type.Union([Text(TEXT_RULE), Type.Array(ContentBlockSchema, { minItems: 1, maxItems: LIMITS.maxContentBlocks })], {
      errorMessage: `${TEXT_RULE}, or an array of 1 to ${LIMITS.maxContentBlocks} content blocks`,
    }),
  },
  { additionalProperties: false },
);

/** A function the model may call (v1 addition). */
export const ToolSchema = Type.Object(
  {
    name: ToolName,
    description: Type.Optional(
      Type.String({
        maxLength: 2 * LIMITS.maxToolDescriptionChars,
        errorMessage: `must be a string of at most ${LIMITS.maxToolDescriptionChars} characters`,
      }),
    ),
    /** A JSON Schema of the call's input: an object schema. */
    inputSchema: Type.Object(
      { type: Type.Literal('object', { errorMessage: 'must be "object": a tool’s input is a JSON object' }) },
      { additionalProperties: true, errorMessage: 'must be a JSON Schema object with "type": "object"' },
    ),
  },
  { additionalProperties: false },
);

/** Whether the model may answer without a call (`auto`), must call one (`any`), or must call the one named. */
export const ToolChoiceSchema = Type.Union(
  [Type.Literal('auto'), Type.Literal('any'), Type.Object({ name: ToolName }, { additionalProperties: false })],
  { errorMessage: 'must be "auto", "any" or { "name": "<a tool in data.tools>" }' },
);

export type ChatMessage = Static<typeof ChatMessageSchema>;
export type TextBlock = Static<typeof TextBlockSchema>;
export type ToolUseBlock = Static<typeof ToolUseBlockSchema>;
export type ToolResultBlock = Static<typeof ToolResultBlockSchema>;
export type ContentBlock = Static<typeof ContentBlockSchema>;
export type ImageBlock = Static<typeof ImageBlockSchema>;
export type DocumentBlock = Static<typeof DocumentBlockSchema>;
export type Tool = Static<typeof ToolSchema>;
export type ToolChoice = Static<typeof ToolChoiceSchema>;
