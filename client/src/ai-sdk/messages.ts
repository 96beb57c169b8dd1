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

/**
 * The AI SDK's UI messages as the gateway's request: system messages become `systemPrompt`;
 * text parts text blocks; file parts image or document blocks; an assistant message's tool parts
 * its `tool_use` blocks, their outputs `tool_result`s in a user turn after each step (an
 * assistant message may hold several steps, split at `step-start`). Parts the gateway has no
 * block for (reasoning, sources, data) are left out; a tool call without an output (the client
 * has not answered it) ends the conversation there.
 */
export async function toGatewayRequest(messages: readonly UiMessage[], fileToBlock: FileToBlock): Promise<{ messages: ChatMessage[]; systemPrompt?: string }> {
  const system: string[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; content: ContentBlock[] }> = [];
  for (const message of messages) {
    if (message.role === 'system') {
      system.push(message.parts.flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('\n'));
      continue;
    }
    if (message.role === 'user') {
      const content: ContentBlock[] = [];
      for (const part of message.parts) {
        if (part.type === 'text' && part.text) content.push({ type: 'text', text: part.text });
        else if (part.type === 'file') content.push(await fileToBlock(part));
      }
      push(turns, 'user', content);
      continue;
    }
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
  }
  if (turns[0]?.role !== 'user') throw new GatewayError('invalid_request', 'The conversation must start with a user message.');
  const out: ChatMessage[] = turns.map((turn) => ({
    role: turn.role,
    content: turn.content.length === 1 && turn.content[0]!.type === 'text' ? turn.content[0]!.text : turn.content,
  }));
  return { messages: out, ...(system.length > 0 ? { systemPrompt: system.join('\n\n') } : {}) };
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
