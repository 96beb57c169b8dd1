import { validatePingFrame } from '../models/validate';
import { readFrame, validated } from './frame';
import type { RouteHandler } from './types';

/** `ping`: an application-level keepalive that also measures the round trip. */
export const ping: RouteHandler = ({ event }) => {
  const frame = validated(readFrame(event), validatePingFrame);
  return Promise.resolve({
    reply: {
      type: 'pong',
      ...(frame.requestId !== undefined ? { requestId: frame.requestId } : {}),
      serverTime: new Date().toISOString(),
    },
  });
};
