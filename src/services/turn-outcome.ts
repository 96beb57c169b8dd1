import type { Answer } from '../generation/answer';
import type { Progress } from '../generation/generation';
import { toGatewayError } from '../models/errors';
import type { ServerFrame } from '../models/server-frames';
import type { TurnOutcome } from './conversation-run';

/** What a conversation keeps of a complete answer: its text, its calls, its usage. */
export function turnOutcome(answer: Answer, progress: Progress): TurnOutcome {
  return { status: 'complete', text: progress.text, toolUses: answer.toolUses, usage: answer.end.usage, modelId: answer.end.modelId, stopReason: answer.end.stopReason };
}

/**
 * What it keeps of an answer cut short: the text the client was sent, marked by how it ended —
 * `cancelled`, or `failed` with the error's code as its stop reason (an upstream timeout, the
 * provider's failure, the client gone for good).
 */
export function cutShort(progress: Progress, failure: unknown): TurnOutcome {
  const code = failure === undefined ? 'internal_error' : toGatewayError(failure).code;
  return { status: code === 'cancelled' ? 'cancelled' : 'failed', text: progress.text, toolUses: [], usage: undefined, modelId: undefined, stopReason: code };
}

/**
 * What it keeps of an answer whose worker died, from the stream's log: the text of the chunks
 * logged before the crash — what a resume replays, so what the client can have seen (the log is
 * written every RESUME_CHECKPOINT_MS, so it may stop short of the last chunk a connected client
 * saw; never past it). A `llm/chat` answer logs nothing before its end: nothing is kept of it.
 */
export function interrupted(logged: readonly ServerFrame[], status: 'interrupted' | 'failed'): TurnOutcome {
  const text = logged.flatMap((frame) => (frame.type === 'chunk' ? [frame.content] : [])).join('');
  return { status, text, toolUses: [], usage: undefined, modelId: undefined, stopReason: status };
}
