import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ServerFrame } from '../models/server-frames';

export interface ManagementClientOptions {
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, or the local emulator's URL. */
  readonly endpoint: string;
  readonly region: string;
  /** Attempts per post; the SDK retries 429 LimitExceededException and 5xx with backoff. */
  readonly maxAttempts: number;
  /** Only the local emulator passes these (it ignores signatures); in AWS the role's are used. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Creates the one management client of a cold start. */
export function createManagementClient(options: ManagementClientOptions): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint: options.endpoint,
    region: options.region,
    maxAttempts: options.maxAttempts,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

/** The client has gone (HTTP 410): stop everything that writes to it. */
export class ConnectionGoneError extends Error {
  constructor(readonly connectionId: string, options?: { cause?: unknown }) {
    super(`connection ${connectionId} is gone`, options);
    this.name = 'ConnectionGoneError';
  }
}

/** API Gateway refused a frame as too large (HTTP 413): a defect of ours, since every frame is built to fit. */
export class FrameTooLargeError extends Error {
  constructor(readonly connectionId: string, options?: { cause?: unknown }) {
    super(`a frame to connection ${connectionId} was refused as too large`, options);
    this.name = 'FrameTooLargeError';
  }
}

/** Delivers frames to connections. The only place that knows how a frame reaches a client. */
export interface FrameSender {
  /** Posts one frame; throws ConnectionGoneError when the connection no longer exists. */
  send(connectionId: string, frame: ServerFrame): Promise<void>;
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && '$metadata' in error ? (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode : undefined;
}

function isGone(error: unknown): boolean {
  return (
    error instanceof GoneException ||
    (error instanceof Error && error.name === 'GoneException') ||
    (typeof error === 'object' && error !== null && '$metadata' in error &&
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410)
  );
}

/** FrameSender over the API Gateway Management API (`PostToConnection`), in AWS and locally. */
export class ManagementApiSender implements FrameSender {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async send(connectionId: string, frame: ServerFrame): Promise<void> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }),
      );
    } catch (error) {
      if (isGone(error)) throw new ConnectionGoneError(connectionId, { cause: error });
      if ((error instanceof Error && error.name === 'PayloadTooLargeException') || statusOf(error) === 413) throw new FrameTooLargeError(connectionId, { cause: error });
      throw error;
    }
  }

}
