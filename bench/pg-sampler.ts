/**
 * Where PostgreSQL spends its time during a bench run: samples `pg_stat_activity` every
 * few milliseconds and counts the statements found running in the bench's databases.
 * Run it beside a scenario: `node bench/pg-sampler.ts SECONDS [DATABASE_PREFIX]`.
 */
import pg from 'pg';
import { ADMIN_URL } from './database.ts';

const seconds = Number(process.argv[2] ?? 30);
const prefix = process.argv[3] ?? 'landlord_bench';
const client = new pg.Client(ADMIN_URL);
await client.connect();
const counts = new Map<string, number>();
const end = Date.now() + seconds * 1000;
let samples = 0;
while (Date.now() < end) {
  const { rows } = await client.query<{ statement: string }>(
    `select left(regexp_replace(query, '\\s+', ' ', 'g'), 100) as statement from pg_stat_activity
     where state = 'active' and datname like $1 and pid <> pg_backend_pid()`,
    [`${prefix}%`],
  );
  samples++;
  for (const { statement } of rows) counts.set(statement, (counts.get(statement) ?? 0) + 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
}
await client.end();
console.log(`${samples} samples in ${seconds} s; statements found running, most often first:`);
for (const [statement, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`${String(count).padStart(6)}  ${statement}`);
}
