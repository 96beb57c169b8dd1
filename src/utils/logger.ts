import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { LogLevel } from '../config/config';

/** The structured JSON logger shared by Fastify and the services. */
export type Logger = FastifyBaseLogger;

/**
 * One pino logger per process. Fields that could carry secrets or user content are redacted by
 * path, so a careless `log.info({ event })` cannot leak a token or a prompt.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: ['*.headers.Authorization', '*.headers.authorization', '*.queryStringParameters.token', '*.body', 'body', 'resumeToken', '*.resumeToken', '*.*.resumeToken'],
      censor: '[redacted]',
    },
  });
}
