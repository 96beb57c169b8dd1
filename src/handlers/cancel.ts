import { validateCancelFrame } from '../models/validate';
import { frameOf, validated } from './client-frame';
import type { RouteHandler } from './types';

/**
 * `llm/cancel`: stops one of this connection's running requests, or with `data.resumeToken` the
 * request the token names, wherever it runs. It has no reply of its own:
 * a cancelled request ends with an `error` frame of code `cancelled`, and a cancel of a request
 * that has already ended does nothing.
 */
export const cancel: RouteHandler = async ({ body, caller }, services) => {
  const frame = validated(frameOf(body), validateCancelFrame);
  await services.messages.cancel(caller, frame);
  return {};
};
