import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.ts';

const MAX_DEPTH = 32;

/**
 * Refuses bodies PostgreSQL could not store or that would exhaust its stack: a NUL
 * character anywhere (text and jsonb reject it) or nesting deeper than 32 levels.
 * Runs before validation so the answer names the field, not a database error.
 */
export function rejectUnstorableText(request: FastifyRequest): void {
  if (request.body === undefined || request.body === null || typeof request.body !== 'object') {
    if (typeof request.body === 'string' && request.body.includes('\u0000')) throw nul('body');
    return;
  }
  walk(request.body, [], 0);
}

function walk(value: unknown, path: string[], depth: number): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw nul(path.join('.'));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) {
    throw new AppError('request.invalid', {
      message: `"${path.join('.')}" is nested deeper than ${MAX_DEPTH} levels`,
      parameter: path.join('.'),
    });
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, [...path, String(index)], depth + 1);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) throw nul([...path, key.replaceAll('\u0000', '\\u0000')].join('.'));
    walk(item, [...path, key], depth + 1);
  }
}

function nul(field: string): AppError {
  return new AppError('request.invalid', {
    message: `"${field || 'body'}" contains a NUL character (\\u0000), which cannot be stored`,
    parameter: field,
  });
}
