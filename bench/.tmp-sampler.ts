import pg from 'pg';
const client = new pg.Client('postgres://postgres@127.0.0.1:5432/postgres');
await client.connect();
const counts = new Map<string, number>();
const end = Date.now() + Number(process.argv[2] ?? 60) * 1000;
let samples = 0;
while (Date.now() < end) {
  const { rows } = await client.query("select left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as q from pg_stat_activity where state = 'active' and datname like 'landlord_bench%' and pid <> pg_backend_pid()");
  samples++;
  for (const row of rows) counts.set(row.q, (counts.get(row.q) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, 5));
}
console.log('samples', samples);
for (const [q, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(n, q);
await client.end();
