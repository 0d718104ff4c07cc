import { sql } from 'kysely';
import { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import { type Db, executePrepared } from '../db/database.ts';
import { turnBatch } from '../db/turn-batch.ts';
import type { Clock } from '../platform/clock.ts';
import type { OidcClientCache } from './client-cache.ts';
import { clientMetadataOf } from './oidc-clients.repo.ts';

/** One row oidc-provider saves. */
interface Saved {
  model: string;
  id: string;
  payload: AdapterPayload;
  grant_id: string | null;
  uid: string | null;
  expires_at: string | null;
}

type StoredRow = { i: number; payload: AdapterPayload; consumed_at: Date | null };

/** One key for a row of `oidc_payloads`, whose primary key is (model, id). */
const rowKey = (row: { model: string; id: string }) => `${row.model}\u0000${row.id}`;

/**
 * oidc-provider's storage on PostgreSQL: every model (authorization codes, tokens,
 * grants, its sessions and interactions) is a row of `oidc_payloads`; clients are the
 * rows products register in `oidc_clients`, read through the node's client cache. A code is consumed by a conditional update,
 * so two exchanges of one code cannot both succeed on any number of nodes.
 *
 * A code exchange reads and writes `oidc_payloads` six times, userinfo three: the reads, saves and
 * consumptions of one turn of the event loop, from every request under way, each go as one statement
 * (`turnBatch`).
 */
export function postgresAdapter(db: Db, clock: Clock, clients: OidcClientCache): new (name: string) => Adapter {
  const live = () => sql`(p.expires_at is null or p.expires_at > ${clock.now()})`;
  const answers = (rows: StoredRow[], count: number): (AdapterPayload | undefined)[] => {
    const found: (AdapterPayload | undefined)[] = new Array(count).fill(undefined);
    for (const row of rows) {
      found[row.i - 1] ??= row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
    }
    return found;
  };
  // The finds and the consumption are planned at each execution, not prepared: this table starts empty and grows and
  // shrinks by thousands of rows a minute, and a prepared plan made while it was small (a hash join over a
  // sequential scan) is kept until statistics change — never, where autovacuum is off. Measured on such a server:
  // 6,000 full scans in a minute and 1.3 ms of PostgreSQL CPU per code exchange, against 0.35 ms planned each time.
  // Rows by id or by uid (a session or interaction is looked up by its uid), of the keys' models.
  const findBy = (column: 'id' | 'uid') =>
    turnBatch<{ model: string; value: string }, AdapterPayload | undefined>(async (keys) => {
      const { rows } = await sql<StoredRow>`select k.i::int as i, p.payload, p.consumed_at
          from unnest(${keys.map((key) => key.model)}::text[], ${keys.map((key) => key.value)}::text[]) with ordinality as k(model, value, i)
          join oidc_payloads p on p.model = k.model and ${sql.ref(`p.${column}`)} = k.value
          where ${live()}`.execute(db);
      return answers(rows, keys.length);
    });
  const findById = findBy('id');
  const findByUid = findBy('uid');
  const save = turnBatch<Saved, void>(async (rows) => {
    // One row per (model, id), the last saved: an upsert may not touch a row twice.
    const last = new Map(rows.map((row) => [rowKey(row), row]));
    await executePrepared(
      db,
      sql`insert into oidc_payloads (model, id, payload, grant_id, uid, expires_at)
        select model, id, payload, grant_id, uid, expires_at
        from jsonb_to_recordset(${JSON.stringify([...last.values()])}::jsonb)
          as x(model text, id text, payload jsonb, grant_id text, uid text, expires_at timestamptz)
        on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
          uid = excluded.uid, expires_at = excluded.expires_at`,
    );
    return rows.map(() => undefined);
  });
  // True for the load that consumed the row; false when it was consumed before, or by an earlier load of this batch.
  const consume = turnBatch<{ model: string; id: string }, boolean>(async (keys) => {
    const { rows } = await sql<{ model: string; id: string }>`update oidc_payloads p set consumed_at = ${clock.now()}
        from unnest(${keys.map((key) => key.model)}::text[], ${keys.map((key) => key.id)}::text[]) as k(model, id)
        where p.model = k.model and p.id = k.id and p.consumed_at is null
        returning p.model, p.id`.execute(db);
    const consumed = new Set(rows.map(rowKey));
    return keys.map((key) => consumed.delete(rowKey(key)));
  });

  return class PostgresAdapter implements Adapter {
    readonly model: string;
    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(clock.now().getTime() + expiresIn * 1000).toISOString() : null;
      await save({ model: this.model, id, payload, grant_id: payload.grantId ?? null, uid: payload.uid ?? null, expires_at: expiresAt });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const client = await clients.find(id);
        return client ? clientMetadataOf(client) : undefined;
      }
      return findById({ model: this.model, value: id });
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return findByUid({ model: this.model, value: uid });
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      // The device flow is not enabled: there are no user codes.
      return undefined;
    }

    async consume(id: string): Promise<void> {
      if (await consume({ model: this.model, id })) return;
      // Another exchange of the same code or refresh token won the race: treat it as reuse,
      // as oidc-provider does for one it sees consumed, and end the whole grant.
      const row = await db
        .selectFrom('oidc_payloads')
        .select('grant_id')
        .where('model', '=', this.model)
        .where('id', '=', id)
        .executeTakeFirst();
      if (row?.grant_id) await this.revokeByGrantId(row.grant_id);
      throw new errors.InvalidGrant(`${this.model} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('model', '=', this.model).where('id', '=', id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
    }
  };
}
