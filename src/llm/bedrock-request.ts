import type {
  ContentBlock as ConverseBlock,
  ConverseStreamCommandInput,
  Message,
  Tool as ConverseTool,
  ToolConfiguration,
  ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { blocksOf, resultText } from '../models/content';
import type { ChatMessage, ContentBlock } from '../models/protocol';
import type { ChatModelRequest } from './chat-model';

/** A JSON document as the SDK types it. */
type DocumentType = NonNullable<ToolUseBlock['input']>;

/** Bedrock refuses an empty tool result (and always one with status "error"): say so instead. */
const EMPTY_RESULT = '(no output)';

function converseBlock(block: ContentBlock): ConverseBlock {
  switch (block.type) {
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

function converseMessage(message: ChatMessage): Message {
  return { role: message.role, content: blocksOf(message.content).map(converseBlock) };
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
    messages: request.messages.map(converseMessage),
    ...(request.systemPrompt ? { system: [{ text: request.systemPrompt }] } : {}),
    ...(Object.keys(inferenceConfig).length > 0 ? { inferenceConfig } : {}),
    ...(tools ? { toolConfig: tools } : {}),
  };
}
