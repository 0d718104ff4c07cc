// What "the database is unavailable" looks like from here. Most of it carries no
// SQLSTATE: pg and pg-pool raise plain Errors for a connection that broke or could not
// be made, Node raises system errors for the socket. Checked against pg 8.23 (client.js)
// and pg-pool 3.14 (index.js); `unavailable.test.ts` provokes each one for real.

// Raised by pg's Client and pg-pool with no code.
const DRIVER_MESSAGES = new Set([
  // client.js: the socket ended while connected (the server died or dropped us).
  'Connection terminated unexpectedly',
  // client.js: the socket ended while this client was closing.
  'Connection terminated',
  // client.js: a query sent on a client whose connection already failed, or that was closed.
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  // client.js: connectionTimeoutMillis ran out while connecting.
  'timeout expired',
  // client.js: query_timeout ran out.
  'Query read timeout',
  // pg-pool: no client became free within connectionTimeoutMillis, or a new one timed out connecting.
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  // pg-pool: the pool was ended (this node is shutting down).
  'Cannot use a pool after calling end on the pool',
]);

// Node's socket errors for a server that is not there (yet) or went away.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATEs of a server that cannot serve right now (not of a statement at fault):
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up,
// shutting down, in recovery), 25006 read_only_sql_transaction (a failover left this
// pool on a standby), plus classes 08 (connection exception) and 53 (insufficient
// resources: too many connections, out of memory, disk full).
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '25006']);
const SERVER_CLASSES = ['08', '53'];

/**
 * True when `error` says the database could not be reached or dropped the connection,
 * rather than that a statement was wrong: the request (or the background pass) may
 * succeed as it is once the database is back. Follows `cause` and AggregateError.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return matches(error, 0);
}

function matches(error: unknown, depth: number): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SERVER_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && SERVER_CLASSES.includes(code.slice(0, 2))) return true;
  }
  // Only plain Errors: a DatabaseError (with its SQLSTATE) or an AppError never counts by message.
  if (Object.getPrototypeOf(error) === Error.prototype && typeof message === 'string' && DRIVER_MESSAGES.has(message)) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => matches(inner, depth + 1))) return true;
  return matches(cause, depth + 1);
}
