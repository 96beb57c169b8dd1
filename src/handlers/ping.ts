import { validatePingFrame } from '../models/validate';
import { frameOf, validated } from './client-frame';
import type { RouteHandler } from './types';

/** `ping`: an application-level keepalive that also measures the round trip. */
export const ping: RouteHandler = ({ body }) => {
  const frame = validated(frameOf(body), validatePingFrame);
  return Promise.resolve({
    reply: {
      type: 'pong',
      ...(frame.requestId !== undefined ? { requestId: frame.requestId } : {}),
      serverTime: new Date().toISOString(),
    },
  });
};
