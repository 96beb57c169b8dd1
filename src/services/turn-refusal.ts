import { GatewayError } from '../models/errors';
import type { ChatMessage } from '../models/protocol';
import type { StoredMessage } from '../stores/conversation-store';
import { answersTo, pendingCallsOf } from './tool-answers';

/** A turn the worker refuses before it writes anything: the conversation is given back as it was, no answer kept. */
export class TurnRefusal extends GatewayError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

/**
 * An edit replaces a user message: when the answer before it called tools, the new message must
 * answer those calls — as the route checks a send against the conversation's pending calls — or
 * the model would read calls left unanswered (and refuse them). Refused before anything is written.
 */
export function checkEditAnswersCalls(before: StoredMessage | undefined, message: ChatMessage | undefined): void {
  const { missing, stray } = answersTo(pendingCallsOf(before), message);
  if (stray.length > 0) throw new TurnRefusal(`Invalid request: data.message has a tool_result for "${stray[0]}", which answers no call of the answer before the edited message.`);
  if (missing.length > 0) throw new TurnRefusal(`Invalid request: data.message replaces the answer to a tool call: it must answer every call of the answer before it with a tool_result — missing "${missing.join('", "')}".`);
}
