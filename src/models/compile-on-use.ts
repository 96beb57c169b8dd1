import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';

/**
 * A TypeBox check compiled the first time it is needed, not at import: compiling generates and
 * evaluates code, and a cold start that serves `$connect` or `$disconnect` checks no frame.
 */
export function compileOnUse<T extends TSchema>(schema: T): () => TypeCheck<T> {
  let compiled: TypeCheck<T> | undefined;
  return () => (compiled ??= TypeCompiler.Compile(schema));
}
