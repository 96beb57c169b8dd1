import { randomUUID } from 'node:crypto';
import { GatewayError } from '../models/errors';
import { echoableRequestId } from '../models/validate';
import { validateConvCreate, validateConvDelete, validateConvGet, validateConvList, validateConvRename } from '../models/validate-conversation';
import type { ConversationService } from '../services/conversation.service';
import type { Caller } from '../models/caller';
import type { ServerFrame } from '../models/server-frames';
import { frameOf } from './client-frame';
import type { RouteHandler, RouteResult } from './types';

/**
 * A `conv/*` handler: the frame validated, the service's answer returned as its frame(s); a
 * failure is one `error` that ends this request (it holds nothing, so its id is free at once).
 */
function conversationRoute<F>(validate: (raw: unknown) => F, run: (service: ConversationService, caller: Caller, frame: F, requestId: string) => Promise<ServerFrame | ServerFrame[]>): RouteHandler {
  return async ({ body, caller }, services): Promise<RouteResult> => {
    const raw = frameOf(body);
    const requestId = echoableRequestId(raw) ?? randomUUID();
    try {
      const answer = await run(services.conversations, caller, validate(raw), requestId);
      return Array.isArray(answer) ? { replies: answer } : { reply: answer };
    } catch (error) {
      throw error instanceof GatewayError ? error.forRequest(requestId) : error;
    }
  };
}

export const convCreate = conversationRoute(validateConvCreate, (s, caller, frame, id) => s.create(caller, frame, id));
export const convList = conversationRoute(validateConvList, (s, caller, frame, id) => s.list(caller, frame, id));
export const convGet = conversationRoute(validateConvGet, (s, caller, frame, id) => s.get(caller, frame, id));
export const convRename = conversationRoute(validateConvRename, (s, caller, frame, id) => s.rename(caller, frame, id));
export const convDelete = conversationRoute(validateConvDelete, (s, caller, frame, id) => s.delete(caller, frame, id));
