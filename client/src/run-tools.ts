import { GatewayError } from './errors.js';
import type { ChatData, ChatMessage, ContentBlock, ToolResultBlock, ToolUse } from './protocol.generated.js';
import type { GatewayStream, StreamEvent, StreamResult } from './request.js';

/** A function the model may call: takes the call's parsed input, returns its result (or throws). */
export type ToolFunction = (input: Record<string, unknown>, call: { toolUseId: string; name: string; signal: AbortSignal | undefined }) => unknown;

export interface RunToolsOptions {
  /** The functions, by tool name; `data.tools` declares them to the model. */
  readonly tools: Readonly<Record<string, ToolFunction>>;
  /** Model turns at most (default 8): after the last, its calls are run and the loop stops. */
  readonly maxSteps?: number;
  readonly signal?: AbortSignal;
  /** Each step's `onResumed` (RequestOptions): a step's answer was resumed after a dropped connection. */
  readonly onResumed?: (fromSeq: number) => void;
  /** Everything as it happens: each step's stream events, then each call's result. */
  readonly onEvent?: (event: RunToolsEvent) => void;
}

export type RunToolsEvent =
  | (StreamEvent & { readonly step: number })
  | { readonly type: 'tool_result'; readonly step: number; readonly toolUseId: string; readonly name: string; readonly content: string; readonly isError: boolean };

export interface RunToolsResult {
  /**
   * The conversation after the loop: `data.messages`, each step's assistant turn and results —
   * ready to send on. In a conversation kept on the gateway (`data.conversationId`), what the
   * loop added to it: `data.message` (when sent), each step's assistant turn and results.
   */
  readonly messages: ChatMessage[];
  /** The text of the last step (the answer, when the model finished without tools). */
  readonly text: string;
  /** Model turns taken. */
  readonly steps: number;
  /** The last step's end; its `stopReason` is `tool_use` when `maxSteps` stopped the loop. */
  readonly result: StreamResult;
}

/** What a tool's return value becomes in a `tool_result`: a string as it is, anything else as JSON. */
function resultContent(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? `[${typeof value}]`;
}

async function runCall(use: ToolUse, tools: RunToolsOptions['tools'], signal: AbortSignal | undefined): Promise<ToolResultBlock> {
  const fn = tools[use.name];
  try {
    if (fn === undefined) throw new Error(`no function for the tool "${use.name}"`);
    const value: unknown = await fn(use.input, { toolUseId: use.toolUseId, name: use.name, signal });
    return { type: 'tool_result', toolUseId: use.toolUseId, content: resultContent(value) };
  } catch (error) {
    // The model hears that the call failed (and why), and may try otherwise.
    return { type: 'tool_result', toolUseId: use.toolUseId, content: error instanceof Error ? error.message : String(error), isError: true };
  }
}

/**
 * What each step sends: the whole conversation so far (stateless); or, in a conversation kept
 * on the gateway, `data` as it is first (its message, a regeneration or an edit), then only the
 * new user turn — the results of the calls just run.
 */
function stepData(data: ChatData, messages: ChatMessage[], step: number): ChatData {
  if (data.conversationId === undefined) return { ...data, messages };
  if (step === 1) return data;
  const { message: _message, regenerate: _regenerate, editFrom: _editFrom, messages: _messages, ...turn } = data;
  return { ...turn, message: messages[messages.length - 1]! };
}

/**
 * The tool loop: streams the answer, runs the functions the model called (in parallel), sends
 * their results in the next turn, and repeats until the model answers without calling any — or
 * `maxSteps` turns. A function that throws gives a `tool_result` with `isError: true`.
 */
export async function runTools(stream: (data: ChatData) => GatewayStream, data: ChatData, options: RunToolsOptions): Promise<RunToolsResult> {
  const maxSteps = options.maxSteps ?? 8;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new TypeError('maxSteps must be a positive integer');
  const messages: ChatMessage[] = data.conversationId === undefined ? [...(data.messages ?? [])] : data.message !== undefined ? [data.message] : [];
  for (let step = 1; ; step += 1) {
    options.signal?.throwIfAborted();
    const answer = stream(stepData(data, messages, step));
    let text = '';
    for await (const event of answer.events()) {
      if (event.type === 'text') text += event.text;
      options.onEvent?.({ ...event, step });
    }
    const result = await answer.done;
    const content: ContentBlock[] = [...(text.trim() !== '' ? [{ type: 'text' as const, text }] : []), ...result.toolUses.map((use) => ({ type: 'tool_use' as const, ...use }))];
    if (content.length > 0) messages.push({ role: 'assistant', content });
    if (result.toolUses.length === 0) return { messages, text, steps: step, result };
    const results = await Promise.all(result.toolUses.map((use) => runCall(use, options.tools, options.signal)));
    for (const [index, block] of results.entries()) {
      options.onEvent?.({ type: 'tool_result', step, toolUseId: block.toolUseId, name: result.toolUses[index]!.name, content: typeof block.content === 'string' ? block.content : block.content.map((part) => part.text).join(''), isError: block.isError === true });
    }
    messages.push({ role: 'user', content: results });
    if (step >= maxSteps) return { messages, text, steps: step, result };
    if (options.signal?.aborted) throw new GatewayError('cancelled', 'The request was cancelled.');
  }
}
