/**
 * The cold-start baseline: the least a WebSocket Lambda can be — the management client created
 * at import and a handler that answers 200. `npm run bench` bundles it like the real entries.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';

const client = new ApiGatewayManagementApiClient({ endpoint: process.env['MANAGEMENT_API_ENDPOINT'] ?? 'https://example.com/prod' });

export const handler = async (): Promise<{ statusCode: number }> => {
  await Promise.resolve(client.config.region);
  return { statusCode: 200 };
};
