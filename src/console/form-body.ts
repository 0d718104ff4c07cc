import type { TSchema } from 'typebox';
import { Errors } from 'typebox/value';
import { AppError } from '../errors/app-error.ts';

/** How a form field becomes a JSON value: text as typed, an integer, a number, or a calendar date (midnight UTC). */
export type FieldKind = 'text' | 'integer' | 'number' | 'date';

/**
 * A console form as the body the `/v1` route would take, checked against that route's own
 * schema: empty fields are left out, numbers and dates converted, and the first problem is
 * a 422 naming the field — the same rules as the API, not a copy of them.
 */
export function formBody<T>(schema: TSchema, form: Record<string, string | undefined>, fields: Record<string, FieldKind>): T {
  const body: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(fields)) {
    const raw = form[name]?.trim();
    if (!raw) continue;
    if (kind === 'text') body[name] = raw;
    else if (kind === 'date') body[name] = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00.000Z` : raw;
    else {
      const value = Number(raw);
      if (!Number.isFinite(value) || (kind === 'integer' && !Number.isInteger(value))) {
        throw new AppError('request.invalid', {
          message: `${name} must be ${kind === 'integer' ? 'a whole number' : 'a number'}`,
          parameter: name,
        });
      }
      body[name] = value;
    }
  }
  const [problem] = [...Errors(schema, body)];
  if (problem) {
    const parameter = problem.instancePath.split('/')[1] || Object.keys(fields)[0] || 'form';
    throw new AppError('request.invalid', { message: `${parameter} ${problem.message}`, parameter });
  }
  return body as T;
}
