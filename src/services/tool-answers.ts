import type { ChatMessage } from '../models/protocol';
import type { StoredMessage } from '../stores/conversation-store';

/** The calls a user message answers: its tool results' ids. */
export function resultIdsOf(message: ChatMessage | undefined): string[] {
  if (message === undefined || typeof message.content === 'string') return [];
  return message.content.flatMap((block) => (block.type === 'tool_result' ? [block.toolUseId] : []));
}

/** The calls a kept answer left for the next user message to answer: a complete answer's tool calls (a cut one's await nothing). */
export function pendingCallsOf(answer: StoredMessage | undefined): string[] {
  if (answer?.role !== 'assistant' || answer.status !== 'complete' || typeof answer.content === 'string') return [];
  return answer.content.flatMap((block) => (block.type === 'tool_use' ? [block.toolUseId] : []));
}

/**
 * How a user message answers `calls` — every call with a tool result, and only them: the calls it
 * leaves unanswered and the results it gives for no call. One rule for a send (the route, against
 * the conversation's pending calls) and an edit (the worker, against the answer before the edited message).
 */
export function answersTo(calls: readonly string[], message: ChatMessage | undefined): { readonly missing: string[]; readonly stray: string[] } {
  const answered = resultIdsOf(message);
  return { missing: calls.filter((id) => !answered.includes(id)), stray: answered.filter((id) => !calls.includes(id)) };
}
