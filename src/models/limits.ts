/**
 * Hard limits of wire protocol v1. API Gateway itself refuses client messages over 128 KB,
 * so these bound what a single valid request can ask for; they are schema constants, the
 * same in AWS and locally.
 */
export const LIMITS = {
  /** API Gateway's limit for one message in either direction. */
  maxMessageBytes: 128 * 1024,
  /** API Gateway's frame size; every server frame we post stays below it. */
  maxFrameBytes: 32 * 1024,
  maxMessages: 100,
  maxMessageChars: 100_000,
  maxSystemPromptChars: 20_000,
  /** All message contents plus the system prompt. */
  maxPromptChars: 120_000,
  maxModelIdChars: 256,
  maxStopSequences: 4,
  maxStopSequenceChars: 100,
  maxMetadataBytes: 2048,
  /** Content blocks in one message (when `content` is an array). */
  maxContentBlocks: 64,
  /** Tools one request may declare. */
  maxTools: 64,
  maxToolDescriptionChars: 4096,
  /** One tool's `inputSchema`, as JSON. */
  maxToolSchemaBytes: 16 * 1024,
  /** An uploaded attachment's id, as the `upload` frame gives it. */
  attachmentIdPattern: '^att_[A-Za-z0-9_-]{22}$',
  /** An image sent inline (base64, within the 128 KB message). */
  maxInlineImageBytes: 90 * 1024,
  maxAttachmentNameChars: 200,
  /** A tool's name and a tool call's id (Bedrock's rule for both; OpenAI's names are the same). */
  toolNamePattern: '^[a-zA-Z0-9_-]{1,64}$',
  requestIdPattern: '^[A-Za-z0-9._:-]{1,64}$',
  /** A conversation's id: `c_`, its creation time (9 base-36 digits, so ids sort as they were made), 96 random bits. */
  conversationIdPattern: '^c_[0-9a-z]{9}[A-Za-z0-9_-]{16}$',
  maxTitleChars: 200,
} as const;
