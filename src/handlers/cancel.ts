import { validateCancelFrame } from '../models/validate';
import { readFrame, validated } from './frame';
import type { RouteHandler } from './types';

/**
 * `llm/cancel`: stops one of this connection's running requests. It has no reply of its own:
 * a cancelled request ends with an `error` frame of code `cancelled`, and a cancel of a request
 * that has already ended does nothing.
 */
export const cancel: RouteHandler = async ({ event, caller }, services) => {
  const frame = validated(readFrame(event), validateCancelFrame);
  await services.messages.cancel(caller, frame.requestId);
  return {};
};
