import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Route schemas compiled on first use instead of at start-up. Compiling every route's
 * validators (Ajv) and response serializers (fast-json-stringify) was a third of a
 * restart's CPU; a restarting node should answer `/readyz` first. Once the node listens,
 * `compileAll` compiles whatever is still waiting, one schema per turn of the event loop,
 * so requests are served in between and a broken schema is found at once, not by its
 * first caller.
 */
export interface DeferredSchemas {
  /** A function that builds its compiled self on its first call (or when `compileAll` gets to it). */
  defer<F extends (...args: never[]) => unknown>(build: () => F): F;
  /** Compiles everything still deferred; rejects with the first schema that does not compile. */
  compileAll(): Promise<void>;
}

export function createDeferredSchemas(): DeferredSchemas {
  const waiting = new Set<() => unknown>();
  return {
    defer<F extends (...args: never[]) => unknown>(build: () => F): F {
      let compiled: F | undefined;
      const compile = () => {
        waiting.delete(compile);
        compiled ??= build();
        return compiled;
      };
      waiting.add(compile);
      return ((...args: Parameters<F>) => (compiled ?? compile())(...args)) as F;
    },
    async compileAll() {
      for (const compile of [...waiting]) {
        compile();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/** Fastify's own serializer compiler (fast-json-stringify), each route's serializer deferred. */
export function deferredSerializers(deferred: DeferredSchemas): SerializerFactory {
  const standard = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = standard(externalSchemas, options);
    return (route) => deferred.defer(() => compile(route));
  };
}

/** A validator compiler whose compilations wait for first use. */
export function deferredValidators(deferred: DeferredSchemas, compiler: FastifySchemaCompiler<unknown>): FastifySchemaCompiler<unknown> {
  return (route) => deferred.defer(() => compiler(route) as (data: unknown) => unknown) as ReturnType<FastifySchemaCompiler<unknown>>;
}
