import type { Logger } from '../utils/logger';

/** Who is asking: the connection and the time API Gateway received the message. */
export interface Caller {
  readonly connectionId: string;
  readonly receivedAt: number;
  /** From the $connect authorizer's context; undefined for an open gateway. */
  readonly userId: string | undefined;
  readonly sourceIp: string;
  readonly log: Logger;
}
