import type { Logger } from '../utils/logger';
import { tokenOf, type TokenVerifier } from './verify';

/** The REQUEST authorizer event API Gateway sends for a WebSocket $connect. */
export interface AuthorizerEvent {
  readonly type: 'REQUEST';
  readonly methodArn: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly queryStringParameters?: Readonly<Record<string, string>>;
  readonly requestContext?: { readonly connectionId?: string; readonly routeKey?: string };
}

export interface AuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Version: '2012-10-17';
    readonly Statement: ReadonlyArray<{ readonly Action: 'execute-api:Invoke'; readonly Effect: 'Allow' | 'Deny'; readonly Resource: string }>;
  };
  /** Repeated by API Gateway in `requestContext.authorizer` of every later event. Strings only, < 8 KB. */
  readonly context: Readonly<Record<string, string>>;
}

/** The error message API Gateway turns into 401 Unauthorized. */
export const UNAUTHORIZED = 'Unauthorized';

/**
 * Builds the $connect authorizer: a valid token yields an Allow policy on the $connect method
 * ARN and `{ userId }` as context; anything else throws `Unauthorized` (401). Tokens never
 * reach the log, only the reason they were refused.
 */
export function createAuthorizer(verify: TokenVerifier, log: Logger): (event: AuthorizerEvent) => Promise<AuthorizerResult> {
  return async (event) => {
    const token = tokenOf(event.queryStringParameters, event.headers);
    const connectionId = event.requestContext?.connectionId;
    if (token === undefined) {
      log.info({ connectionId, reason: 'no token' }, 'connection refused');
      throw new Error(UNAUTHORIZED);
    }
    try {
      const { userId } = await verify(token);
      return {
        principalId: userId,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
        },
        context: { userId: userId.slice(0, 256) },
      };
    } catch (error) {
      log.info({ connectionId, reason: (error as Error).message }, 'connection refused');
      throw new Error(UNAUTHORIZED);
    }
  };
}
