import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { type ErrorItem, errorItem } from '../errors/app-error.ts';

// ajv-formats is CommonJS; its default export arrives wrapped once more under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: boolean): Ajv {
  // removeAdditional stays off: an unknown field is an error the caller should hear about.
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

// Bodies are JSON: "12" is not a number there. Query strings and path parameters are
// text by nature, so they are coerced.
const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

/**
 * Fastify validator compiler: strict JSON for bodies, coercion for everything else.
 * A request without a body is checked as an empty object, so an endpoint whose body
 * is all optional needs none, and one with required fields names them.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object);
  const objectBody = httpPart === 'body' && (schema as { type?: unknown }).type === 'object';
  return (data: unknown) => {
    // Fastify hands a missing body over as null.
    const value = (data === undefined || data === null) && objectBody ? {} : data;
    return validate(value) ? { value } : { error: validate.errors as unknown as Error };
  };
};

const MAX_REPORTED = 20;

/** Turns ajv's errors into envelope items that name the field at fault. */
export function validationItems(errors: readonly ErrorObject[], part: string): ErrorItem[] {
  const items = errors.filter((error) => error.keyword !== 'if' && error.keyword !== 'anyOf').map((error) => describe(error, part));
  // An anyOf failure alone (e.g. a value that is neither a string nor null) still deserves an answer.
  const fallback = errors[0] ? [describe(errors[0], part)] : [];
  return dedupe(items.length ? items : fallback).slice(0, MAX_REPORTED);
}

function describe(error: ErrorObject, part: string): ErrorItem {
  const path = pointerToPath(error.instancePath);
  const where = (name: string) => [part === 'body' ? '' : part, path, name].filter(Boolean).join('.');
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = where(String(error.params.additionalProperty));
      return errorItem('request.unknown_field', `Unknown field "${field}"`, field);
    }
    case 'required': {
      const field = where(String(error.params.missingProperty));
      return errorItem('request.invalid', `"${field}" is required`, field);
    }
    default: {
      const field = where('') || part;
      return errorItem('request.invalid', `"${field}" ${error.message ?? 'is not valid'}`, field);
    }
  }
}

function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');
}

function dedupe(items: ErrorItem[]): ErrorItem[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = `${item.parameter}|${item.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
