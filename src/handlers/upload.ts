import { randomUUID } from 'node:crypto';
import { GatewayError } from '../models/errors';
import { echoableRequestId, validateUploadFrame } from '../models/validate';
import { frameOf } from './client-frame';
import type { RouteHandler } from './types';

/**
 * `llm/upload`: one `upload` frame with a presigned PUT, or one `error` that ends this upload
 * request (it holds nothing, so its id is free again at once).
 */
export const upload: RouteHandler = async ({ body, caller }, services) => {
  const raw = frameOf(body);
  const requestId = echoableRequestId(raw) ?? randomUUID();
  try {
    return { reply: await services.uploads.upload(caller, validateUploadFrame(raw), requestId) };
  } catch (error) {
    throw error instanceof GatewayError ? error.forRequest(requestId) : error;
  }
};
