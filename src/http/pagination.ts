import { Type } from 'typebox';
import { AppError } from '../errors/app-error.ts';

/** The query parameters every list accepts. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Items per page (1–500)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: '`metadata.pagination.nextCursor` of the previous page' })),
};

/** An opaque cursor for the position after `key` (an id, in a list ordered by id). */
export function encodeCursor(key: string | number): string {
  return Buffer.from(String(key)).toString('base64url');
}

/** The key inside a cursor, checked against `shape`; a foreign or garbled cursor is a 400. */
export function decodeCursor(cursor: string | undefined, shape: RegExp): string | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!shape.test(key)) throw new AppError('request.invalid_cursor', { parameter: 'cursor' });
  return key;
}

/** Cursor shapes of the keys lists are ordered by. */
export const UUID_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const SERIAL_KEY = /^\d{1,19}$/;

/**
 * Cuts the `limit + 1` rows a list query fetched down to one page, with the cursor of
 * the next page (null when this is the last).
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string | number): { items: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1] as T)) };
}
