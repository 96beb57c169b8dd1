import type { Answer } from '../generation/answer';
import type { Progress } from '../generation/generation';
import { toGatewayError } from '../models/errors';
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
