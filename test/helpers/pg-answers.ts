import pg from 'pg';

/** Whether a PostgreSQL server answers a query now (a URL or client settings), within `timeoutMs` to connect. */
export async function pgAnswers(connection: string | pg.ClientConfig, timeoutMs = 2000): Promise<boolean> {
  const settings = typeof connection === 'string' ? { connectionString: connection } : connection;
  const client = new pg.Client({ ...settings, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
