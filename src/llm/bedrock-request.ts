import type {
  ContentBlock as ConverseBlock,
  ConverseStreamCommandInput,
  Message,
  Tool as ConverseTool,
  ToolConfiguration,
  ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { mediaTypeOf } from '../attachments/media-types';
import { blocksOf, resultText, type ModelBlock, type ModelMessage } from '../models/content';
import { GatewayError } from '../models/errors';
import type { ChatModelRequest } from './chat-model';

/** A JSON document as the SDK types it. */
type DocumentType = NonNullable<ToolUseBlock['input']>;

/** Bedrock refuses an empty tool result (and always one with status "error"): say so instead. */
const EMPTY_RESULT = '(no output)';

/** Bedrock's own per-request limits on attachments. */
export const BEDROCK_LIMITS = { images: 20, documents: 5 } as const;

/**
 * A document name as Bedrock takes it: letters, digits, single spaces, hyphens, parentheses and
 * square brackets only (its rule), and unique within the request.
 */
function safeName(name: string, taken: Set<string>): string {
  const base = name.replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[^A-Za-z0-9\s\-()[\]]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 100) || 'document';
  let candidate = base;
  for (let n = 2; taken.has(candidate); n += 1) candidate = `${base} (${n})`;
  taken.add(candidate);
  return candidate;
}

function converseBlock(block: ModelBlock, names: Set<string>): ConverseBlock {
  switch (block.type) {
    case 'image':
      return { image: { format: mediaTypeOf(block.mediaType)?.format as 'png', source: { bytes: block.bytes } } };
    case 'document':
      return { document: { format: mediaTypeOf(block.mediaType)?.format as 'pdf', name: safeName(block.name, names), source: { bytes: block.bytes } } };
    case 'text':
      return { text: block.text };
    case 'tool_use':
      return { toolUse: { toolUseId: block.toolUseId, name: block.name, input: block.input as DocumentType } };
    case 'tool_result':
      return {
        toolResult: {
          toolUseId: block.toolUseId,
          content: [{ text: resultText(block) || EMPTY_RESULT }],
          status: block.isError ? 'error' : 'success',
        },
      };
  }
}

function converseMessages(messages: readonly ModelMessage[]): Message[] {
  const count = { image: 0, document: 0 };
  for (const message of messages) for (const block of blocksOf(message.content)) if (block.type === 'image' || block.type === 'document') count[block.type] += 1;
  if (count.image > BEDROCK_LIMITS.images) throw new GatewayError('invalid_request', `Invalid request: Amazon Bedrock takes at most ${BEDROCK_LIMITS.images} images in a request (the conversation has ${count.image}).`);
  if (count.document > BEDROCK_LIMITS.documents) {
    throw new GatewayError('invalid_request', `Invalid request: Amazon Bedrock takes at most ${BEDROCK_LIMITS.documents} documents in a request (the conversation has ${count.document}).`);
  }
  const names = new Set<string>();
  return messages.map((message) => ({ role: message.role, content: blocksOf(message.content).map((block) => converseBlock(block, names)) }));
}

/**
 * The request's tools as Bedrock's `toolConfig`. Bedrock refuses tool blocks in the history
 * without one, even when this turn offers no tools: then the tools the history names are
 * declared (any input), and the model is told to call none of them unless asked.
 */
function toolConfig(request: ChatModelRequest): ToolConfiguration | undefined {
  const { tools, toolChoice } = request;
  if (tools !== undefined && tools.length > 0) {
    return {
      tools: tools.map(
        (tool): ConverseTool => ({
          toolSpec: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), inputSchema: { json: tool.inputSchema as DocumentType } },
        }),
      ),
      ...(toolChoice === 'any' ? { toolChoice: { any: {} } } : typeof toolChoice === 'object' ? { toolChoice: { tool: { name: toolChoice.name } } } : {}),
    };
  }
  const named = new Set<string>();
  for (const message of request.messages) for (const block of blocksOf(message.content)) if (block.type === 'tool_use') named.add(block.name);
  if (named.size === 0) return undefined;
  return {
    tools: [...named].map(
      (name): ConverseTool => ({
        toolSpec: { name, description: 'A tool called earlier in this conversation; not available now.', inputSchema: { json: { type: 'object' } } },
      }),
    ),
  };
}

/** The provider-neutral request as a Converse request: one shape for every model family. */
export function toConverseInput(request: ChatModelRequest): ConverseStreamCommandInput {
  const { maxTokens, temperature, topP, stopSequences } = request.inferenceConfig;
  const inferenceConfig = {
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(stopSequences !== undefined && stopSequences.length > 0 ? { stopSequences } : {}),
  };
  const tools = toolConfig(request);
  return {
    modelId: request.modelId,
    messages: converseMessages(request.messages),
    ...(request.systemPrompt ? { system: [{ text: request.systemPrompt }] } : {}),
    ...(Object.keys(inferenceConfig).length > 0 ? { inferenceConfig } : {}),
    ...(tools ? { toolConfig: tools } : {}),
  };
}
