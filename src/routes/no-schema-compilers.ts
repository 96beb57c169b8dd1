import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

function refuse(): never {
  throw new Error('the WebSocket routes declare no Fastify schema: frames are checked by models/validate.ts');
}

/**
 * Our routes declare no Fastify schema (each frame is checked by the precompiled TypeBox checks
 * in models/validate.ts, whose errors name the field the client got wrong). Fastify builds its
 * default compilers (Ajv and fast-json-stringify) only when no factory is given, so handing it
 * these keeps ~475 KiB of compiler code out of the route function's cold start: the bundle leaves
 * both packages out (scripts/bundle.ts). Asked to compile anyway — someone added a schema — they
 * fail at `ready()`, loudly, instead of at the first frame in Lambda.
 */
export const noSchemaCompilers: CompilersFactory = {
  buildValidator: () => refuse,
  buildSerializer: () => refuse,
};
