import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { AppConfig } from '../config/config';
import { blocksOf, resultText, type ModelBlock, type ModelMessage } from '../models/content';
import { GatewayError } from '../models/errors';
import type { ToolChoice } from '../models/protocol';
import type { ChatModelRequest } from './chat-model';

type MaxTokensField = AppConfig['providers']['openai']['maxTokensField'];

/** Attachments one request may carry to an OpenAI-compatible server (the gateway's own cap). */
export const OPENAI_MAX_ATTACHMENTS = 20;

const dataUrl = (mediaType: string, bytes: Uint8Array): string => `data:${mediaType};base64,${Buffer.from(bytes).toString('base64')}`;

/**
 * An attachment as a Chat Completions content part: an image as an `image_url` data URL, a PDF
 * as a `file` part, a text document as text (its name first); Word and Excel files have no part
 * a compatible server reads, so they are refused, saying so.
 */
function attachmentPart(block: Extract<ModelBlock, { type: 'image' | 'document' }>): ChatCompletionContentPart {
  if (block.type === 'image') return { type: 'image_url', image_url: { url: dataUrl(block.mediaType, block.bytes) } };
  if (block.mediaType === 'application/pdf') return { type: 'file', file: { filename: block.name, file_data: dataUrl(block.mediaType, block.bytes) } };
  if (block.mediaType.startsWith('text/')) return { type: 'text', text: `Document "${block.name}":\n${Buffer.from(block.bytes).toString('utf8')}` };
  throw new GatewayError('invalid_request', `Invalid request: OpenAI-compatible models here cannot read ${block.mediaType} documents; send PDF or text instead.`);
}

/** A user turn's text and attachments as content parts (a plain string when it is text only). */
function userContent(blocks: readonly ModelBlock[]): string | ChatCompletionContentPart[] {
  const parts = blocks.flatMap((block): ChatCompletionContentPart[] => {
    if (block.type === 'text') return [{ type: 'text', text: block.text }];
    if (block.type === 'image' || block.type === 'document') return [attachmentPart(block)];
    return [];
  });
  return parts.every((part) => part.type === 'text') ? parts.map((part) => (part as { text: string }).text).join('\n') : parts;
}

/**
 * One message of ours as Chat Completions messages: an assistant turn's calls become its
 * `tool_calls`; a user turn's results become one `role: "tool"` message each — first, since they
 * must follow the assistant message that called — and its text a user message after them.
 */
function completionMessages(message: ModelMessage): ChatCompletionMessageParam[] {
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
  const content = userContent(blocks);
  return [...results, ...(content.length > 0 ? [{ role: 'user' as const, content }] : [])];
}

function toolChoiceOf(choice: ToolChoice | undefined): ChatCompletionToolChoiceOption | undefined {
  if (choice === undefined || choice === 'auto') return choice;
  if (choice === 'any') return 'required';
  return { type: 'function', function: { name: choice.name } };
}

/** The provider-neutral request as a streamed Chat Completions request. */
export function toChatCompletionsRequest(request: ChatModelRequest, maxTokensField: MaxTokensField): ChatCompletionCreateParamsStreaming {
  const { maxTokens, temperature, topP, stopSequences } = request.inferenceConfig;
  const attachments = request.messages.reduce((sum, m) => sum + blocksOf(m.content).filter((b) => b.type === 'image' || b.type === 'document').length, 0);
  if (attachments > OPENAI_MAX_ATTACHMENTS) {
    throw new GatewayError('invalid_request', `Invalid request: at most ${OPENAI_MAX_ATTACHMENTS} attachments go to an OpenAI-compatible model in one request (the conversation has ${attachments}).`);
  }
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
