import { sql } from 'kysely';
import { afterAll, expect, inject, it } from 'vitest';
import { createDb, createPool } from './database.ts';
import { serverSettingWarnings } from './server-settings.ts';

const db = createDb(createPool(inject('adminUrl'), 1));
afterAll(() => db.destroy());

it('warns exactly when the server runs without autovacuum', async () => {
  const { rows } = await sql<{ on: boolean }>`select current_setting('autovacuum') = 'on'
    and current_setting('track_counts') = 'on' as on`.execute(db);
  const warnings = await serverSettingWarnings(db);
  if (rows[0]?.on) expect(warnings).toEqual([]);
  else expect(warnings).toEqual([expect.stringContaining('autovacuum is off')]);
});
