import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One table holds all shared state (see docs/DESIGN.md, "One table"). Items are addressed by
 * a partition key `pk` and a sort key `sk`:
 *
 * | item        | pk                 | sk              |
 * |-------------|--------------------|-----------------|
 * | connection  | `CONN#{id}`        | `CONN`          |
 * | request     | `CONN#{id}`        | `REQ#{reqId}`   |
 * | counter     | `RATE#{key}`       | `RATE`          |
 * | slots       | `SLOT#{key}`       | `SLOT`          |
 * | stream      | `STREAM#{hash}`    | `META`          |
 * | stream log  | `STREAM#{hash}`    | `LOG#{index}`   |
 *
 * A connection's requests share its partition, so `$disconnect` finds them with one Query.
 * Every item has `ttl` (epoch seconds); readers ignore expired items because DynamoDB deletes
 * them up to days late.
 */
export const KEYS = {
  connection: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'CONN' }),
  request: (connectionId: string, requestId: string) => ({ pk: `CONN#${connectionId}`, sk: `REQ#${requestId}` }),
  requestPrefix: 'REQ#',
  counter: (key: string) => ({ pk: `RATE#${key}`, sk: 'RATE' }),
  slots: (key: string) => ({ pk: `SLOT#${key}`, sk: 'SLOT' }),
  stream: (key: string) => ({ pk: `STREAM#${key}`, sk: 'META' }),
  /** Zero-padded, so the log sorts by index. */
  streamLog: (key: string, index: number) => ({ pk: `STREAM#${key}`, sk: `LOG#${String(index).padStart(9, '0')}` }),
} as const;

/** The table as the template declares it, minus TTL (DynamoDB Local and dynalite lack UpdateTimeToLive). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  };
}

/** Creates the table when it does not exist (local endpoints only; in AWS the template owns it). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'exists' | 'created'> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return 'exists';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    // Another process created it first: fine.
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  return 'created';
}

export function nowSeconds(now: () => number): number {
  return Math.floor(now() / 1000);
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * A conditional write's output, or undefined when its condition failed: for these stores a failed
 * condition is an answer (over the limit, a duplicate, already gone), not an error. Others throw.
 */
export async function unlessConditionFails<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Deletes items 25 at a time (BatchWriteItem's most), again for what DynamoDB left unprocessed. */
export async function deleteItems(db: DynamoDBDocumentClient, tableName: string, keys: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  for (let at = 0; at < keys.length; at += 25) {
    let requests = keys.slice(at, at + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let round = 0; requests.length > 0 && round < 5; round += 1) {
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}
