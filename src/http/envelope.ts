import { type Static, type TSchema, Type } from 'typebox';
import type { ErrorItem } from '../errors/app-error.ts';

/** One entry of `metadata.errors[]`. */
export const ErrorItemSchema = Type.Object({
  code: Type.String({ description: 'Stable dotted code, e.g. `tenant.not_found`' }),
  message: Type.String(),
  parameter: Type.String({ description: 'The request field at fault, or empty' }),
  sysCode: Type.String({ description: 'Numeric code as in the RoSaaS envelope' }),
});

const Pagination = Type.Object({
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' }),
  limit: Type.Integer(),
});

const Metadata = Type.Object({
  success: Type.Boolean(),
  errors: Type.Array(ErrorItemSchema),
  requestId: Type.Optional(Type.String()),
});

/** The envelope of every failed native response. */
export const ErrorEnvelope = Type.Object({ metadata: Metadata });

/** The envelope of a successful response carrying `data`. */
export function envelope<T extends TSchema>(data: T) {
  return Type.Object({ data, metadata: Metadata });
}

/** The envelope of one page of a list: `data` is the items, `metadata.pagination` the cursor. */
export function listEnvelope<T extends TSchema>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    metadata: Type.Object({ success: Type.Boolean(), errors: Type.Array(ErrorItemSchema), pagination: Pagination }),
  });
}

/** Wraps `data` in the success envelope. */
export function ok<T>(data: T) {
  return { data, metadata: { success: true, errors: [] as ErrorItem[] } };
}

/** Wraps one page of a list in the success envelope. */
export function okPage<T>(data: T[], nextCursor: string | null, limit: number) {
  return { data, metadata: { success: true, errors: [] as ErrorItem[], pagination: { nextCursor, limit } } };
}

/** Builds the failure envelope. */
export function failure(errors: ErrorItem[], requestId?: string) {
  return { metadata: { success: false, errors, ...(requestId ? { requestId } : {}) } };
}

export type ErrorEnvelopeBody = Static<typeof ErrorEnvelope>;

/** Response schemas for the error statuses a route can answer, all the one envelope. */
export function errors(...statuses: number[]): Record<number, typeof ErrorEnvelope> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorEnvelope]));
}
