import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './management-api';

/** A message as the in-process queue holds it (its SQS protocol reads and writes these). */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, { readonly DataType: string; readonly StringValue?: string }>>;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt: number;
  visibleAt: number;
}

/** SQS's own limit on a message (1 MiB since 2025). */
const MAX_MESSAGE_BYTES = 1024 * 1024;

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function sqsError(res: ServerResponse, status: number, type: string, message: string): void {
  // awsJson1_0: the SDK reads the error name from `__type` (and this header for query-compatible errors).
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${type};Sender` });
  res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }));
}

/**
 * SQS's JSON protocol (awsJson1_0) for SendMessage, so the app's real SQSClient sends to the
 * local queue unchanged: `POST /` with `X-Amz-Target: AmazonSQS.SendMessage`, the MD5 of the body
 * in the answer as the SDK checks it, and SQS's error names. Returns false for other requests.
 */
export async function serveSqsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  queueUrl: string,
  send: (body: string, attributes: QueuedMessage['attributes']) => string,
): Promise<boolean> {
  const target = req.headers['x-amz-target'];
  if (req.method !== 'POST' || typeof target !== 'string' || !target.startsWith('AmazonSQS.')) return false;
  const raw = await readBody(req, 2 * MAX_MESSAGE_BYTES);
  let input: { QueueUrl?: unknown; MessageBody?: unknown; MessageAttributes?: unknown };
  try {
    input = JSON.parse(raw?.toString('utf8') ?? '') as typeof input;
  } catch {
    sqsError(res, 400, 'InvalidParameterValue', 'The request body is not JSON.');
    return true;
  }
  if (target !== 'AmazonSQS.SendMessage') {
    sqsError(res, 400, 'UnsupportedOperation', `${target.slice('AmazonSQS.'.length)} is not emulated locally.`);
  } else if (input.QueueUrl !== queueUrl) {
    sqsError(res, 400, 'QueueDoesNotExist', 'The specified queue does not exist.');
  } else if (typeof input.MessageBody !== 'string' || input.MessageBody === '') {
    sqsError(res, 400, 'MissingParameter', 'MessageBody is required.');
  } else if (Buffer.byteLength(input.MessageBody) > MAX_MESSAGE_BYTES) {
    sqsError(res, 400, 'InvalidParameterValue', `MessageBody is longer than ${MAX_MESSAGE_BYTES} bytes.`);
  } else {
    const messageId = send(input.MessageBody, (input.MessageAttributes ?? {}) as QueuedMessage['attributes']);
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify({ MessageId: messageId, MD5OfMessageBody: md5(input.MessageBody) }));
  }
  return true;
}
