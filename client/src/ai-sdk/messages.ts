import { GatewayError } from '../errors.js';
import type { ChatMessage, ContentBlock } from '../protocol.generated.js';

/** The parts of an AI SDK UI message this conversion reads (structural: `ai` 5 and later). */
export interface UiPart {
  readonly type: string;
  readonly text?: string;
  readonly mediaType?: string;
  readonly url?: string;
  readonly filename?: string;
  readonly toolCallId?: string;
  readonly toolName?: string;
  readonly state?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly errorText?: string;
}

export interface UiMessage {
  readonly id: string;
  readonly role: 'system' | 'user' | 'assistant';
  readonly parts: readonly UiPart[];
}

/** Turns a file part (a data URL, or a URL the transport cannot read) into a block; uploads large ones. */
export type FileToBlock = (part: UiPart) => Promise<ContentBlock>;

const toolName = (part: UiPart): string | undefined => (part.type === 'dynamic-tool' ? part.toolName : part.type.startsWith('tool-') ? part.type.slice(5) : undefined);

function resultContent(part: UiPart): { content: string; isError?: true } {
  if (part.state === 'output-error') return { content: part.errorText ?? 'the tool failed', isError: true };
  return { content: typeof part.output === 'string' ? part.output : (JSON.stringify(part.output) ?? '') };
}

/** Appends a turn, merging it into the last one when the roles repeat (turns must alternate). */
function push(turns: Array<{ role: 'user' | 'assistant'; content: ContentBlock[] }>, role: 'user' | 'assistant', content: ContentBlock[]): void {
  if (content.length === 0) return;
  const last = turns[turns.length - 1];
  if (last?.role === role) last.content.push(...content);
  else turns.push({ role, content });
}

type Turn = { role: 'user' | 'assistant'; content: ContentBlock[] };

/** A user message's parts as content blocks: text parts, and file parts through `fileToBlock`. */
async function userBlocks(message: UiMessage, fileToBlock: FileToBlock): Promise<ContentBlock[]> {
  const content: ContentBlock[] = [];
  for (const part of message.parts) {
    if (part.type === 'text' && part.text) content.push({ type: 'text', text: part.text });
    else if (part.type === 'file') content.push(await fileToBlock(part));
  }
  return content;
}

/**
 * An assistant message as turns: each step's text and calls, then their results in a user turn
 * (a message may hold several steps, split at `step-start`); a call without an output is left out.
 */
function assistantTurns(message: UiMessage): Turn[] {
  const turns: Turn[] = [];
  let said: ContentBlock[] = [];
  let answered: ContentBlock[] = [];
  const endStep = (): void => {
    push(turns, 'assistant', said);
    push(turns, 'user', answered);
    said = [];
    answered = [];
  };
  for (const part of message.parts) {
    const name = toolName(part);
    if (part.type === 'step-start' && said.some((b) => b.type === 'tool_use')) endStep();
    else if (part.type === 'text' && part.text) said.push({ type: 'text', text: part.text });
    else if (name !== undefined && part.toolCallId !== undefined) {
      if (part.state !== 'output-available' && part.state !== 'output-error') continue; // not answered yet
      said.push({ type: 'tool_use', toolUseId: part.toolCallId, name, input: (part.input ?? {}) as Record<string, unknown> });
      answered.push({ type: 'tool_result', toolUseId: part.toolCallId, ...resultContent(part) });
    }
  }
  endStep();
  return turns;
}

/** A turn's content as the gateway takes it: one text block as a string. */
const contentOf = (content: ContentBlock[]): ChatMessage['content'] => (content.length === 1 && content[0]!.type === 'text' ? content[0]!.text : content);

/**
 * The AI SDK's UI messages as the gateway's request: system messages become `systemPrompt`;
 * text parts text blocks; file parts image or document blocks; an assistant message's tool parts
 * its `tool_use` blocks, their outputs `tool_result`s in a user turn after each step (an
 * assistant message may hold several steps, split at `step-start`). Parts the gateway has no
 * block for (reasoning, sources, data) are left out; a tool call without an output (the client
 * has not answered it) ends the conversation there.
 */
export async function toGatewayRequest(messages: readonly UiMessage[], fileToBlock: FileToBlock): Promise<{ messages: ChatMessage[]; systemPrompt?: string }> {
  const system = systemPromptOf(messages);
  const turns: Turn[] = [];
  for (const message of messages) {
    if (message.role === 'user') push(turns, 'user', await userBlocks(message, fileToBlock));
    else if (message.role === 'assistant') for (const turn of assistantTurns(message)) push(turns, turn.role, turn.content);
  }
  if (turns[0]?.role !== 'user') throw new GatewayError('invalid_request', 'The conversation must start with a user message.');
  const out: ChatMessage[] = turns.map((turn) => ({ role: turn.role, content: contentOf(turn.content) }));
  return { messages: out, ...(system !== undefined ? { systemPrompt: system } : {}) };
}

/** The system messages' text, joined: the request's `systemPrompt`. */
function systemPromptOf(messages: readonly UiMessage[]): string | undefined {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.parts.flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('\n'));
  return system.length > 0 ? system.join('\n\n') : undefined;
}

/**
 * What a turn of a conversation kept on the gateway sends: only what is new — the last message
 * when it is the user's (text and files), or, when it is an assistant message whose last step's
 * calls the page answered (a tool loop going on), the user turn of those results. System
 * messages give the turn's `systemPrompt`.
 */
export async function toConversationTurn(messages: readonly UiMessage[], fileToBlock: FileToBlock): Promise<{ message: ChatMessage; systemPrompt?: string }> {
  const last = messages[messages.length - 1];
  const system = systemPromptOf(messages);
  const withSystem = (message: ChatMessage) => ({ message, ...(system !== undefined ? { systemPrompt: system } : {}) });
  if (last?.role === 'user') {
    const content = await userBlocks(last, fileToBlock);
    if (content.length === 0) throw new GatewayError('invalid_request', 'The message to send is empty.');
    return withSystem({ role: 'user', content: contentOf(content) });
  }
  // The results of the last step's calls only: an earlier step's went with the turn before.
  const step = last?.role === 'assistant' ? last.parts.slice(last.parts.map((p) => p.type).lastIndexOf('step-start') + 1) : [];
  const results = last?.role === 'assistant' ? assistantTurns({ ...last, parts: step }).at(-1) : undefined;
  if (results?.role !== 'user') throw new GatewayError('invalid_request', 'Nothing new to send: the last message is neither a user message nor an answer whose tool calls have their outputs.');
  return withSystem({ role: 'user', content: results.content });
}

/** Bytes of a `data:` URL. */
export function dataUrlBytes(url: string): Uint8Array | undefined {
  const match = /^data:[^;,]*(;base64)?,(.*)$/s.exec(url);
  if (match === null) return undefined;
  const payload = match[2] ?? '';
  if (match[1] === undefined) return new TextEncoder().encode(decodeURIComponent(payload));
  const binary = atob(payload);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
