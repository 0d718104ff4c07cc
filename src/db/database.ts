import {
  type Compilable,
  CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type RawBuilder,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { timestamptzParser } from './timestamptz.ts';

/** A Kysely handle: the pool or a transaction alike. Repos and services take it first. */
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

// int8 (counts, money in minor units) as a JS number: every value Landlord stores
// in one stays far below 2^53.
const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
const parseTimestamptz = timestamptzParser(pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text'));
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

// Statement texts run as named prepared statements: parsed and planned once per
// connection instead of on every call (planning the tenant read cost 4× its execution).
const PREPARED = new Map<string, string>();

/**
 * Makes every later run of this exact statement text a named prepared statement.
 * Only for the hot statements whose text never varies (no IN-lists of changing
 * length): each one costs a prepared statement on every connection.
 */
export function prepareStatement(text: string): void {
  if (!PREPARED.has(text)) PREPARED.set(text, `landlord_${PREPARED.size + 1}`);
}

/**
 * Runs a query as a named prepared statement (see `prepareStatement`): for hot
 * statements whose text depends only on their shape, never on their values.
 */
export async function executePrepared<R>(db: Db, query: RawBuilder<R> | { compile(): CompiledQuery<R> }): Promise<R[]> {
  const compiled = 'isRawBuilder' in query ? query.compile(db) : query.compile();
  prepareStatement(compiled.sql);
  return (await db.executeQuery(compiled)).rows;
}

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/** Opens a pg pool for `connectionString`, tuned for a service node. */
export function createPool(connectionString: string, max = 20): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    types: typeParsers,
    application_name: 'landlord',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // A connection lost while idle or checked out must not crash the process: the pool
  // replaces it, and the query that was using it fails on its own.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    const query = client.query.bind(client) as QueryFn;
    (client as unknown as { query: QueryFn }).query = (config, values, callback) => {
      const name = typeof config === 'string' ? PREPARED.get(config) : undefined;
      return name ? query({ name, text: config, values }, callback) : query(config, values, callback);
    };
  });
  return pool;
}

/** Wraps a pool in Kysely. */
export function createDb(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** A Kysely instance that only compiles queries (to know their text ahead of time); it never connects. */
export const compileOnly: Db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** A hot statement's parameters by name. */
type StatementParameters = Record<string, unknown>;

/**
 * A hot statement built and compiled once, then run as a named prepared statement with new values: building a
 * Kysely query and compiling it cost a read more than its execution. `build` is called once, with `compileOnly`
 * and a stand-in for each parameter (the keys of the first call's `parameters`), so its text must depend on the
 * parameters' positions only: no branch on their values, no value inside a JSON or a list it builds.
 */
export function hotStatement<P extends StatementParameters, R>(
  build: (db: Db, parameters: P) => RawBuilder<R> | Compilable<R>,
): (db: Db, parameters: P) => Promise<R[]> {
  let compiled: { sql: string; slots: ({ name: keyof P } | { value: unknown })[] } | undefined;
  const compile = (names: (keyof P)[]) => {
    const standIns = new Map<unknown, keyof P>(names.map((name) => [{ standingFor: name }, name]));
    const query = build(compileOnly, Object.fromEntries([...standIns].map(([standIn, name]) => [name, standIn])) as P);
    const { sql, parameters } = 'isRawBuilder' in query ? query.compile(compileOnly) : query.compile();
    prepareStatement(sql);
    return {
      sql,
      slots: parameters.map((value) => (standIns.has(value) ? { name: standIns.get(value) as keyof P } : { value })),
    };
  };
  return async (db, parameters) => {
    compiled ??= compile(Object.keys(parameters));
    const values = compiled.slots.map((slot) => ('name' in slot ? parameters[slot.name] : slot.value));
    return (await db.executeQuery<R>(CompiledQuery.raw(compiled.sql, values))).rows;
  };
}
