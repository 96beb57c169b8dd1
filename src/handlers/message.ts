import { validateChatFrame } from '../models/validate';
import type { AnswerMode } from '../services/message.service';
import { readFrame, validated } from './frame';
import type { RouteHandler } from './types';

function chatRoute(mode: AnswerMode): RouteHandler {
  return async ({ event, caller }, services) => {
    const frame = validated(readFrame(event), validateChatFrame);
    await services.messages.accept(caller, frame, mode);
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
