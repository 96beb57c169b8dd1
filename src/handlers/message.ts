import type { AnswerMode } from '../services/message.service';
import { frameOf } from './client-frame';
import type { RouteHandler } from './types';

function chatRoute(mode: AnswerMode): RouteHandler {
  return async ({ body, caller }, services) => {
    // The service validates: whether a refusal ends the frame's request depends on the store.
    await services.messages.accept(caller, frameOf(body), mode);
    return {};
  };
}

/**
 * `llm/stream` and its alias `message`: `accepted` now; the worker then streams `chunk` frames
 * and `done`.
 */
export const stream = chatRoute('stream');

/** `llm/chat`: the answer arrives as one `response` (in parts above the message limit). */
export const chat = chatRoute('chat');
