import type { ColumnType } from 'kysely';

/** A column the database fills in on insert (a default) but that can be set on update. */
export type Defaulted<T> = ColumnType<T, T | undefined, T>;
/** A timestamp column: a Date out, a Date or ISO string in. */
export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** JSON columns: any JSON in, parsed JSON out. */
export type Json<T = unknown> = ColumnType<T, string | T, string | T>;
