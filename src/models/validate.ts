import type { TypeCheck } from '@sinclair/typebox/compiler';
import { DefaultErrorFunction, SetErrorFunction } from '@sinclair/typebox/errors';
import type { TSchema } from '@sinclair/typebox';
import { GatewayError } from './errors';
import { LIMITS } from './limits';
import { compileOnUse } from './compile-on-use';
import { characterCount, isWellFormed } from './text';
import { blockTexts, contentChars } from './content';
import { checkTools, checkToolTurns, explainContent } from './validate-content';
import { checkDepths } from './validate-depth';
import {
  CancelFrameSchema,
  ChatRequestFrameSchema,
  PingFrameSchema,
  ResumeFrameSchema,
  UploadFrameSchema,
  type UploadFrame,
  type CancelFrame,
  type ResumeFrame,
  type ChatRequestFrame,
  type PingFrame,
  type ChatMessage,
} from './protocol';

// Schemas may carry a client-facing `errorMessage`; fall back to TypeBox's text otherwise.
SetErrorFunction((error) => {
  const custom: unknown = (error.schema as Record<string, unknown>)['errorMessage'];
  return typeof custom === 'string' ? custom : DefaultErrorFunction(error);
});

const requestIdPattern = new RegExp(LIMITS.requestIdPattern);
const checks = {
  chat: compileOnUse(ChatRequestFrameSchema),
  cancel: compileOnUse(CancelFrameSchema),
  ping: compileOnUse(PingFrameSchema),
  resume: compileOnUse(ResumeFrameSchema),
  upload: compileOnUse(UploadFrameSchema),
};

/** `/data/messages/0/role` → `data.messages[0].role` */
function fieldName(pointer: string): string {
  if (pointer === '') return 'frame';
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name === '' ? part : `${name}.${part}`), '');
}

/** The value at a JSON pointer inside `root`. */
function at(root: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((value, part) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined), root);
}

export function check<T extends TSchema>(compiled: TypeCheck<T>, value: unknown): asserts value is T['static'] {
  if (compiled.Check(value)) return;
  const first = compiled.Errors(value).First();
  let detail = first ? `${fieldName(first.path)} ${first.message}` : 'frame does not match the protocol';
  // A message's content is a union (string or blocks): say which block and field is wrong.
  const content = first ? /^\/data\/messages\/\d+\/content/.exec(first.path) : null;
  if (content) detail = explainContent(at(value, content[0]), fieldName(content[0])) ?? detail;
  throw new GatewayError('invalid_request', `Invalid request: ${detail}.`);
}

/** The client's requestId when it is well-formed, so even an error frame can be correlated. */
export function echoableRequestId(frame: Record<string, unknown> | undefined): string | undefined {
  const id = frame?.['requestId'];
  return typeof id === 'string' && requestIdPattern.test(id) ? id : undefined;
}

/** The messages a chat frame carries, each with its name for the client: a history's, or a conversation turn's one. */
function namedMessages(frame: ChatRequestFrame): Array<readonly [name: string, message: ChatMessage]> {
  const { messages, message } = frame.data;
  return [...(messages ?? []).map((m, i) => [`data.messages[${i}]`, m] as const), ...(message !== undefined ? [['data.message', message] as const] : [])];
}

/**
 * The shape of a frame's turn: a whole history (`messages`), or a conversation's next turn
 * (`conversationId` with one user `message`, or `regenerate`, or `editFrom` with a `message`) —
 * never both, never neither.
 */
function checkTurnShape(data: ChatRequestFrame['data']): void {
  const { messages, conversationId, message, regenerate, editFrom } = data;
  if (conversationId === undefined) {
    const stray = (['message', 'regenerate', 'editFrom'] as const).find((field) => data[field] !== undefined);
    if (stray !== undefined) throw new GatewayError('invalid_request', `Invalid request: data.${stray} belongs to a conversation's turn: it needs data.conversationId.`);
    if (messages === undefined) throw new GatewayError('invalid_request', 'Invalid request: data.messages is required (or data.conversationId with data.message, to send a conversation\'s next turn).');
    return;
  }
  if (messages !== undefined) throw new GatewayError('invalid_request', 'Invalid request: a conversation\'s turn sends only what is new: data.message, not data.messages (the server keeps the history).');
  if (regenerate === true && (message !== undefined || editFrom !== undefined)) {
    throw new GatewayError('invalid_request', 'Invalid request: data.regenerate answers the last user message again: it takes no data.message or data.editFrom.');
  }
  if (regenerate !== true && message === undefined) throw new GatewayError('invalid_request', 'Invalid request: data.message is required: the user message this turn adds (or data.regenerate).');
  if (message !== undefined && message.role !== 'user') throw new GatewayError('invalid_request', 'Invalid request: data.message.role must be "user": a turn adds the user\'s message, the answer is the model\'s.');
}

/** A text field of a chat frame, its limit in characters and the rule the client is told. */
type TextField = readonly [name: string, value: string, max: number, rule: string];

function textFields(frame: ChatRequestFrame): TextField[] {
  const { systemPrompt, modelId, inferenceConfig, tools } = frame.data;
  const nonEmpty = (max: number): string => `must be a non-empty string of at most ${max} characters`;
  return [
    // Each block of a message counts toward the message's limit (its text checked for Unicode too).
    ...namedMessages(frame).map(([name, m]): TextField => [`${name}.content`, blockTexts(m.content).join(''), LIMITS.maxMessageChars, `must be at most ${LIMITS.maxMessageChars} characters, every block counted`]),
    ...(tools ?? []).flatMap((tool, i): TextField[] =>
      tool.description === undefined ? [] : [[`data.tools[${i}].description`, tool.description, LIMITS.maxToolDescriptionChars, `must be a string of at most ${LIMITS.maxToolDescriptionChars} characters`]],
    ),
    ...(systemPrompt !== undefined
      ? [['data.systemPrompt', systemPrompt, LIMITS.maxSystemPromptChars, `must be a string of at most ${LIMITS.maxSystemPromptChars} characters`] as const]
      : []),
    ...(modelId !== undefined ? [['data.modelId', modelId, LIMITS.maxModelIdChars, nonEmpty(LIMITS.maxModelIdChars)] as const] : []),
    ...(inferenceConfig?.stopSequences ?? []).map(
      (stop, i): TextField => [`data.inferenceConfig.stopSequences[${i}]`, stop, LIMITS.maxStopSequenceChars, nonEmpty(LIMITS.maxStopSequenceChars)],
    ),
  ];
}

/** Lengths in characters (code points), and text that is valid Unicode (no lone surrogate). */
function checkTexts(frame: ChatRequestFrame): void {
  for (const [name, value, max, rule] of textFields(frame)) {
    if (characterCount(value) > max) throw new GatewayError('invalid_request', `Invalid request: ${name} ${rule}.`);
    if (!isWellFormed(value)) {
      throw new GatewayError('invalid_request', `Invalid request: ${name} must be valid Unicode text (it holds a lone UTF-16 surrogate).`);
    }
  }
}

/** Serialisable without fear of the stack: checkDepths has bounded its nesting. */
function metadataBytes(metadata: unknown): number {
  return Buffer.byteLength(JSON.stringify(metadata));
}

/**
 * Validates an `llm/stream`, `llm/chat` or `message` frame: the schema first, then the rules a
 * schema cannot say (nesting depth, turn order, metadata size).
 */
export function validateChatFrame(frame: unknown): ChatRequestFrame {
  check(checks.chat(), frame);
  // First: everything after it serialises the free-form JSON, which recursion could not survive.
  checkDepths(frame.data);
  checkTurnShape(frame.data);
  checkTexts(frame);
  const { metadata } = frame.data;
  const messages = frame.data.messages ?? [];
  for (const [index, message] of messages.entries()) {
    const expected = index % 2 === 0 ? 'user' : 'assistant';
    if (message.role !== expected) {
      throw new GatewayError(
        'invalid_request',
        `Invalid request: data.messages[${index}].role must be "${expected}": turns alternate user, assistant, user, … starting with user.`,
      );
    }
  }
  if (frame.data.messages !== undefined && messages[messages.length - 1]?.role !== 'user') {
    throw new GatewayError('invalid_request', 'Invalid request: data.messages must end with a "user" message.');
  }
  // A conversation's turn is checked against its history once the conversation is read.
  checkToolTurns(messages);
  checkTools(frame.data);
  const promptChars = namedMessages(frame).reduce((sum, [, m]) => sum + contentChars(m.content), characterCount(frame.data.systemPrompt ?? ''));
  if (promptChars > LIMITS.maxPromptChars) {
    throw new GatewayError(
      'invalid_request',
      `Invalid request: data.messages and data.systemPrompt together must be at most ${LIMITS.maxPromptChars} characters (got ${promptChars}).`,
    );
  }
  if (metadata !== undefined && metadataBytes(metadata) > LIMITS.maxMetadataBytes) {
    throw new GatewayError(
      'invalid_request',
      `Invalid request: data.metadata must serialise to at most ${LIMITS.maxMetadataBytes} bytes of JSON.`,
    );
  }
  return frame;
}

export function validateCancelFrame(frame: unknown): CancelFrame {
  check(checks.cancel(), frame);
  if (frame.data?.resumeToken !== undefined && frame.data.conversationId !== undefined) {
    throw new GatewayError('invalid_request', 'Invalid request: data takes a resumeToken or a conversationId, not both.');
  }
  return frame;
}

export function validatePingFrame(frame: unknown): PingFrame {
  check(checks.ping(), frame);
  return frame;
}

export function validateResumeFrame(frame: unknown): ResumeFrame {
  check(checks.resume(), frame);
  // Which answer: the token's, or the conversation's running one — one way, never both.
  if ((frame.data.resumeToken === undefined) === (frame.data.conversationId === undefined)) {
    throw new GatewayError('invalid_request', 'Invalid request: data needs a resumeToken (from accepted) or a conversationId (its running answer), exactly one of the two.');
  }
  return frame;
}

export function validateUploadFrame(frame: unknown): UploadFrame {
  check(checks.upload(), frame);
  return frame;
}
