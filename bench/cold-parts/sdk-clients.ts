/** The route function's AWS SDK share, alone: the three clients it creates at import (DynamoDB, SQS, management API). */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const clients = [
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  new SQSClient({ region: 'us-east-1' }),
  new ApiGatewayManagementApiClient({ endpoint: 'https://abc.execute-api.us-east-1.amazonaws.com/prod', region: 'us-east-1' }),
];

export const handler = async (): Promise<unknown> => Promise.all(clients.map((client) => client.config.region()));
