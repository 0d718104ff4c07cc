import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from './database.ts';

/**
 * What a node says at start-up about the PostgreSQL server's settings that Landlord relies on. Autovacuum keeps the
 * table statistics current, and a new ANALYZE is what makes PostgreSQL plan a prepared statement again: without
 * it, a plan made while a table was small (a sequential scan) stays as the table grows, and dead row versions pile
 * up. Measured on a server with autovacuum off: the OIDC code exchange scanned its whole table on every request.
 */
export async function serverSettingWarnings(db: Db): Promise<string[]> {
  const { rows } = await sql<{ autovacuum: string; track_counts: string }>`
    select current_setting('autovacuum') as autovacuum, current_setting('track_counts') as track_counts`.execute(db);
  const settings = rows[0];
  const warnings: string[] = [];
  if (settings?.autovacuum !== 'on' || settings.track_counts !== 'on') {
    warnings.push(
      'PostgreSQL autovacuum is off (or track_counts is): table statistics go stale and prepared plans with them, and dead rows are never cleaned up. Turn it on, or run VACUUM ANALYZE regularly.',
    );
  }
  return warnings;
}

/** Logs each warning of `serverSettingWarnings`; a server that cannot be asked is not a reason to stop. */
export async function warnAboutServerSettings(db: Db, log: Logger): Promise<void> {
  const warnings = await serverSettingWarnings(db).catch(() => []);
  for (const warning of warnings) log.warn(warning);
}
