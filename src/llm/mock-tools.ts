import { createHash } from 'node:crypto';
import { blocksOf, resultText, textOf } from '../models/content';
import type { ModelMessage } from '../models/content';
import type { Tool } from '../models/protocol';
import type { ChatModelRequest } from './chat-model';

/** One step of the mock's answer: a piece of text, or a piece of a call's input JSON. */
export type MockPiece = { readonly text: string } | { readonly toolUseId: string; readonly name: string; readonly inputDelta: string };

/** A sample value for a JSON Schema: its example, default or first enum value, else one of its type. */
export function sampleOf(schema: unknown): unknown {
  const s = (typeof schema === 'object' && schema !== null ? schema : {}) as Record<string, unknown>;
  if (Array.isArray(s['examples']) && s['examples'].length > 0) return s['examples'][0];
  if (s['default'] !== undefined) return s['default'];
  if (Array.isArray(s['enum']) && s['enum'].length > 0) return s['enum'][0];
  const type: unknown = Array.isArray(s['type']) ? (s['type'] as unknown[])[0] : s['type'];
  switch (type) {
    case 'string':
      return 'sample';
    case 'integer':
    case 'number':
      return typeof s['minimum'] === 'number' ? s['minimum'] : 42;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'null':
      return null;
    default: {
      const properties = (s['properties'] ?? {}) as Record<string, unknown>;
      const required = Array.isArray(s['required']) ? (s['required'] as string[]) : [];
      return Object.fromEntries(required.map((name) => [name, sampleOf(properties[name])]));
    }
  }
}

function toolUseId(seed: string): string {
  return `tooluse_${createHash('sha256').update(seed).digest('base64url').replace(/-/g, '_').slice(0, 20)}`;
}

/** The tools the mock calls: the one `toolChoice` names, else those the last user message names, else with `any` the first. */
function chosenTools(request: ChatModelRequest, prompt: string): readonly Tool[] {
  const tools = request.tools ?? [];
  const { toolChoice } = request;
  if (typeof toolChoice === 'object') return tools.filter((tool) => tool.name === toolChoice.name);
  const named = tools.filter((tool) => new RegExp(`\\b${tool.name}\\b`).test(prompt));
  if (named.length > 0) return named;
  return toolChoice === 'any' && tools[0] ? [tools[0]] : [];
}

/** The calls of the assistant turn before the last message, by id (to name each result). */
function callsBefore(messages: readonly ModelMessage[]): Map<string, string> {
  const previous = messages[messages.length - 2];
  const names = new Map<string, string>();
  for (const block of previous ? blocksOf(previous.content) : []) if (block.type === 'tool_use') names.set(block.toolUseId, block.name);
  return names;
}

/**
 * The mock's answer when tools are involved, or undefined when they are not: it answers tool
 * results with text quoting each, and calls the chosen tools — a short text first, then each
 * call's input (built from its schema's required properties) in three pieces.
 */
export function mockToolPieces(request: ChatModelRequest): MockPiece[] | undefined {
  const last = request.messages[request.messages.length - 1];
  if (last === undefined) return undefined;
  const results = blocksOf(last.content).flatMap((block) => (block.type === 'tool_result' ? [block] : []));
  if (results.length > 0) {
    const names = callsBefore(request.messages);
    const quoted = results.map((r) => `${names.get(r.toolUseId) ?? r.toolUseId} ${r.isError ? 'failed' : 'returned'} "${resultText(r)}"`);
    return `From the tools: ${quoted.join('; ')}.`.split(/(?<= )/).map((text) => ({ text }));
  }
  const prompt = textOf(last.content);
  const tools = chosenTools(request, prompt);
  if (tools.length === 0) return undefined;
  const pieces: MockPiece[] = `Calling ${tools.map((t) => t.name).join(' and ')}. `.split(/(?<= )/).map((text) => ({ text }));
  for (const [index, tool] of tools.entries()) {
    const id = toolUseId(`${prompt}\u0000${tool.name}\u0000${index}`);
    const input = JSON.stringify(sampleOf(tool.inputSchema));
    const third = Math.ceil(input.length / 3);
    for (let at = 0; at < input.length; at += third) pieces.push({ toolUseId: id, name: tool.name, inputDelta: input.slice(at, at + third) });
  }
  return pieces;
}
