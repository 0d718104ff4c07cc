import { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import { type Db, executePrepared } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import type { OidcClientCache } from './client-cache.ts';
import { clientMetadataOf } from './oidc-clients.repo.ts';

/**
 * oidc-provider's storage on PostgreSQL: every model (authorization codes, tokens,
 * grants, its sessions and interactions) is a row of `oidc_payloads`; clients are the
 * rows products register in `oidc_clients`, read through the node's client cache. A code is consumed by a conditional update,
 * so two exchanges of one code cannot both succeed on any number of nodes.
 */
export function postgresAdapter(db: Db, clock: Clock, clients: OidcClientCache): new (name: string) => Adapter {
  return class PostgresAdapter implements Adapter {
    readonly model: string;
    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(clock.now().getTime() + expiresIn * 1000) : null;
      const values = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresAt,
      };
      await db
        .insertInto('oidc_payloads')
        .values(values)
        .onConflict((conflict) =>
          conflict
            .columns(['model', 'id'])
            .doUpdateSet({ payload: values.payload, grant_id: values.grant_id, uid: values.uid, expires_at: expiresAt }),
        )
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const client = await clients.find(id);
        return client ? clientMetadataOf(client) : undefined;
      }
      return this.findWhere('id', id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findWhere('uid', uid);
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      // The device flow is not enabled: there are no user codes.
      return undefined;
    }

    private async findWhere(column: 'id' | 'uid', value: string): Promise<AdapterPayload | undefined> {
      const [row] = await executePrepared(
        db,
        db
          .selectFrom('oidc_payloads')
          .select(['payload', 'consumed_at'])
          .where('model', '=', this.model)
          .where(column, '=', value)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', clock.now())])),
      );
      if (!row) return undefined;
      const payload = row.payload as AdapterPayload;
      return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
    }

    async consume(id: string): Promise<void> {
      const [consumed] = await executePrepared(
        db,
        db
          .updateTable('oidc_payloads')
          .set({ consumed_at: clock.now() })
          .where('model', '=', this.model)
          .where('id', '=', id)
          .where('consumed_at', 'is', null)
          .returning('grant_id'),
      );
      if (consumed) return;
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
