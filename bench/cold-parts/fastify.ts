/**
 * The route function's Fastify share, alone: Fastify with our compilers factory, the Lambda
 * adapter, one route, booted at import and invoked once — no SDK, no logger, no TypeBox.
 */
import awsLambdaFastify from '@fastify/aws-lambda';
import Fastify from 'fastify';
import { noSchemaCompilers } from '../../src/routes/no-schema-compilers';

const app = Fastify({ schemaController: { compilersFactory: noSchemaCompilers } });
app.post('/ws/ping', () => Promise.resolve(''));
const proxy = awsLambdaFastify(app);
const ready = app.ready();

export const handler = async (): Promise<unknown> => {
  await ready;
  return proxy({ httpMethod: 'POST', path: '/ws/ping', headers: {}, body: '{}' }, {} as never);
};
