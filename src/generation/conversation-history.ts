import { estimatePromptTokens } from '../llm/tokens';
import type { ChatMessage, ContentBlock } from '../models/protocol';
import type { StoredMessage } from '../stores/conversation-store';

/** The messages of a conversation the model reads, and how many of the history were left out to fit. */
export interface ModelHistory {
  readonly messages: ChatMessage[];
  readonly dropped: number;
}

const isEmpty = (content: StoredMessage['content']): boolean => (typeof content === 'string' ? content.trim() === '' : content.length === 0);
const hasResults = (message: ChatMessage): boolean => typeof message.content !== 'string' && message.content.some((block) => block.type === 'tool_result');

/** The tool results a message carries. */
const resultsIn = (message: ChatMessage): ContentBlock[] => (typeof message.content === 'string' ? [] : message.content.filter((block) => block.type === 'tool_result'));
const blocksOf = (content: ChatMessage['content']): ContentBlock[] => (typeof content === 'string' ? [{ type: 'text', text: content }] : [...content]);

/**
 * A conversation's stored messages as a model's history: alternating turns, user first. An answer
 * that ended with nothing (failed before any text) is left out, and so is the user message it
 * answered when another user message follows it (the question was asked again); consecutive user
 * messages otherwise keep the last — with the tool results of the earlier ones before it, since
 * they answer the calls of the answer before them, which a model refuses to read unanswered.
 * What a cut answer (cancelled, failed, interrupted) holds stays: it is what the user saw.
 */
export function turnsOf(stored: readonly StoredMessage[]): ChatMessage[] {
  const turns: ChatMessage[] = [];
  for (const message of stored) {
    if (message.role === 'assistant' && isEmpty(message.content)) continue;
    const content = typeof message.content === 'string' ? message.content : [...message.content];
    const last = turns[turns.length - 1];
    const carried = last?.role === 'user' && message.role === 'user' ? resultsIn(last) : [];
    if (last?.role === message.role) turns[turns.length - 1] = { role: message.role, content: carried.length > 0 ? [...carried, ...blocksOf(content)] : content };
    else turns.push({ role: message.role, content });
  }
  // A history starts with a question: an answer first (orphaned by an edit) is left out, and so
  // are leading tool results whose calls are gone (written before the retention's cut).
  for (;;) {
    const first = turns[0];
    if (first === undefined) break;
    if (first.role === 'assistant') {
      turns.shift();
      continue;
    }
    if (!hasResults(first)) break;
    const rest = blocksOf(first.content).filter((block) => block.type !== 'tool_result');
    if (rest.length > 0) {
      turns[0] = { role: 'user', content: rest };
      break;
    }
    turns.shift();
  }
  return turns;
}

/**
 * The history the model can read beside the new turn: whole exchanges, oldest left out first,
 * until the history and the new messages fit `budgetTokens` (the context window less the
 * answer's room and what the system prompt and tools take). An exchange starts at a user message
 * that answers no tool call, so a call is never separated from its result. The new messages are
 * always kept; when they alone do not fit, nothing of the history is — unless they answer calls:
 * the exchange holding the calls is then kept, past the budget if it must be (a model refuses
 * results without their calls; one over the estimate may still fit its real window).
 */
export function fitHistory(history: readonly ChatMessage[], added: readonly ChatMessage[], budgetTokens: number): ModelHistory {
  // The estimate is a sum over messages: each counted once, every cut's total a suffix sum — linear
  // in the history (re-estimating each candidate was quadratic: 94 ms of CPU at 2,000 messages).
  const suffix = new Array<number>(history.length + 1).fill(0);
  for (let i = history.length - 1; i >= 0; i -= 1) suffix[i] = suffix[i + 1]! + estimatePromptTokens({ messages: [history[i]!] });
  const addedTokens = estimatePromptTokens({ messages: added });
  const starts = history.flatMap((message, index) => (message.role === 'user' && !hasResults(message) ? [index] : []));
  // New messages that answer calls keep the exchange holding the calls, whatever it takes.
  const answersCalls = added[0] !== undefined && hasResults(added[0]);
  const cuts = [0, ...starts.filter((s) => s > 0), ...(answersCalls ? [] : [history.length])];
  for (const start of cuts) {
    if (start === history.length || suffix[start]! + addedTokens <= budgetTokens) return { messages: [...history.slice(start), ...added], dropped: start };
  }
  const last = cuts[cuts.length - 1]!;
  return { messages: [...history.slice(last), ...added], dropped: last };
}
