import type {
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { AppConfig } from '../config/config';
import { blocksOf, resultText } from '../models/content';
import type { ChatMessage, ToolChoice } from '../models/protocol';
import type { ChatModelRequest } from './chat-model';

type MaxTokensField = AppConfig['providers']['openai']['maxTokensField'];

/**
 * One message of ours as Chat Completions messages: an assistant turn's calls become its
 * `tool_calls`; a user turn's results become one `role: "tool"` message each — first, since they
 * must follow the assistant message that called — and its text a user message after them.
 */
function completionMessages(message: ChatMessage): ChatCompletionMessageParam[] {
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  const blocks = blocksOf(message.content);
  const text = blocks.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
  if (message.role === 'assistant') {
    const calls = blocks.flatMap((block): ChatCompletionMessageToolCall[] =>
      block.type === 'tool_use' ? [{ id: block.toolUseId, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } }] : [],
    );
    return [{ role: 'assistant', content: text === '' ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
  }
  const results = blocks.flatMap((block): ChatCompletionMessageParam[] =>
    // Chat Completions has no error flag on a tool message: the text says it.
    block.type === 'tool_result' ? [{ role: 'tool', tool_call_id: block.toolUseId, content: `${block.isError ? 'Error: ' : ''}${resultText(block)}` }] : [],
  );
  return [...results, ...(text !== '' ? [{ role: 'user' as const, content: text }] : [])];
}

function toolChoiceOf(choice: ToolChoice | undefined): ChatCompletionToolChoiceOption | undefined {
  if (choice === undefined || choice === 'auto') return choice;
  if (choice === 'any') return 'required';
  return { type: 'function', function: { name: choice.name } };
}

/** The provider-neutral request as a streamed Chat Completions request. */
export function toChatCompletionsRequest(request: ChatModelRequest, maxTokensField: MaxTokensField): ChatCompletionCreateParamsStreaming {
  const { maxTokens, temperature, topP, stopSequences } = request.inferenceConfig;
  const messages: ChatCompletionMessageParam[] = [
    ...(request.systemPrompt ? [{ role: 'system' as const, content: request.systemPrompt }] : []),
    ...request.messages.flatMap(completionMessages),
  ];
  const tools = request.tools?.map(
    (tool): ChatCompletionTool => ({
      type: 'function',
      function: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.inputSchema },
    }),
  );
  const toolChoice = tools ? toolChoiceOf(request.toolChoice) : undefined;
  return {
    model: request.modelId,
    messages,
    stream: true,
    // The last chunk then carries the usage (its `choices` empty); servers without it send none.
    stream_options: { include_usage: true },
    ...(maxTokens !== undefined ? { [maxTokensField]: maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { top_p: topP } : {}),
    ...(stopSequences !== undefined && stopSequences.length > 0 ? { stop: stopSequences } : {}),
    ...(tools ? { tools } : {}),
    ...(toolChoice !== undefined ? { tool_choice: toolChoice } : {}),
  };
}
