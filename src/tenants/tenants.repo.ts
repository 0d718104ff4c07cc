import { type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import type { Actor } from '../access/principal.ts';
import { type AuditEntry, auditInsert } from '../audit/audit.repo.ts';
import { lockedRulesFingerprint } from '../catalogue/specifications.repo.ts';
import { compileOnly, type Db, executePrepared, prepareStatement } from '../db/database.ts';
import type { TenantsTable } from '../db/schema.ts';
import { eventsInsert, type NewEvent, notifySequencerOnce } from '../events/events.repo.ts';
import { HEALTH_COLUMNS } from '../health/health.view.ts';
import { addJobsPerRow } from '../jobs/enqueue.ts';
import { isUuid } from '../platform/ids.ts';
import { timelineInsert } from './timeline.repo.ts';
import type { TransitionPlan } from './transitions.ts';

/** The columns a tenant view is made of: the tenant, its product's name, its price's name and its health. */
function tenantQuery(db: Db) {
  return db
    .selectFrom('tenants')
    .innerJoin('products', 'products.id', 'tenants.product_id')
    .leftJoin('plan_prices', 'plan_prices.id', 'tenants.plan_price_id')
    .leftJoin('tenant_health', 'tenant_health.tenant_id', 'tenants.id')
    .selectAll('tenants')
    .select(['products.name as product_name', 'products.provisioning as product_provisioning', 'plan_prices.name as plan_price_name'])
    .select(HEALTH_COLUMNS);
}

export type TenantRecord = Awaited<ReturnType<ReturnType<typeof tenantQuery>['executeTakeFirstOrThrow']>>;

// Reading (and locking) one tenant by id or name is the hottest statement there is:
// it is built and compiled once, and runs as a prepared statement on each connection.
const ONE_TENANT = Object.fromEntries(
  [false, true].flatMap((lock) =>
    (['tenants.id', 'tenants.name'] as const).map((column) => {
      const query = tenantQuery(compileOnly).where(column, '=', '');
      const compiled = (lock ? query.forUpdate('tenants') : query).compile();
      prepareStatement(compiled.sql);
      return [`${column}:${lock}`, compiled];
    }),
  ),
);

async function oneTenant(db: Db, ref: string, lock: boolean): Promise<TenantRecord | undefined> {
  const byId = isUuid(ref);
  const compiled = ONE_TENANT[`${byId ? 'tenants.id' : 'tenants.name'}:${lock}`];
  if (!compiled) throw new Error('no compiled tenant query');
  const result = await db.executeQuery<TenantRecord>({ ...compiled, parameters: [byId ? ref : ref.toLowerCase()] });
  return result.rows[0];
}

/** Finds a tenant by id or by name (names are matched case-insensitively, as RoSaaS does). */
export async function findTenant(db: Db, ref: string): Promise<TenantRecord | undefined> {
  return oneTenant(db, ref, false);
}

/** Tenants by id, as records (for events about many tenants at once). */
export async function findTenantsByIds(db: Db, ids: readonly string[]): Promise<TenantRecord[]> {
  return ids.length ? tenantQuery(db).where('tenants.id', 'in', ids).execute() : [];
}

/** Locks a tenant row for the rest of the transaction and returns it as a record. */
export async function lockTenant(db: Db, ref: string): Promise<TenantRecord | undefined> {
  return oneTenant(db, ref, true);
}

/** Filters of the tenant list. */
export interface TenantFilter {
  productId?: string;
  status?: string;
  /** Prefix of the name or the display name. */
  prefix?: string;
  afterId?: string;
  /** The tenant's health state (`healthy`, `unhealthy`…), for the console's filter. */
  health?: string;
  planPriceId?: string;
}

/** One page of tenants in id order (`limit + 1` rows, to tell whether more follow). */
export async function findTenants(db: Db, filter: TenantFilter, limit: number): Promise<TenantRecord[]> {
  let query = tenantQuery(db)
    .orderBy('tenants.id')
    .limit(limit + 1);
  if (filter.productId) query = query.where('tenants.product_id', '=', filter.productId);
  if (filter.status) query = query.where('tenants.status', '=', filter.status);
  if (filter.afterId) query = query.where('tenants.id', '>', filter.afterId);
  if (filter.health) query = query.where('tenant_health.state', '=', filter.health as 'healthy');
  if (filter.planPriceId) query = query.where('tenants.plan_price_id', '=', filter.planPriceId);
  if (filter.prefix) {
    const pattern = `${escapeLike(filter.prefix.toLowerCase())}%`;
    query = query.where((eb) => eb.or([eb('tenants.name', 'like', pattern), eb(sql`lower(tenants.display_name)`, 'like', pattern)]));
  }
  return query.execute();
}

/** A new tenant's row as `insertTenantLogged` writes it (JSON columns as JSON text). */
export interface NewTenantRow {
  id: string;
  product_id: string;
  name: string;
  display_name: string;
  specifications: string;
  metadata: string;
  plan_price_id: string | null;
  created_at: Date;
}

/** How `insertTenantLogged` went: written, or not because the rules changed since they were read or the claim was refused. */
export type NewTenantOutcome = { written: Selectable<TenantsTable> } | { written: null; rulesChanged: boolean };

/** A transition the new tenant takes at once (its creation request), written with it. */
export type FirstTransition = Pick<TransitionPlan, 'values' | 'entries' | 'along' | 'at'>;

/**
 * Writes a new tenant with its audit record and its `tenant.created` event (number 1
 * of its sequence) in one statement, so that one round trip and one commit do all of
 * it — with `first`, also the transition it takes at once (its status, timeline, call
 * job and events). The write happens only if the product's published specifications
 * are still those the values were checked against (`rulesFingerprint`), locked until
 * commit, and if `claim` (an idempotency claim, inserted when the rules hold) yields a
 * row. A taken name raises 23505 and writes nothing.
 */
export async function insertTenantLogged(
  db: Db,
  row: NewTenantRow,
  log: {
    actor: Actor;
    audit: AuditEntry;
    event: NewEvent;
    rulesFingerprint: string;
    /** More rows the new tenant comes with (its subscription), as a CTE per row of `created`, and their events. */
    along?: { cte: (from: RawBuilder<unknown>) => RawBuilder<unknown>; events: NewEvent[] };
  },
  claim?: (when: RawBuilder<boolean>) => RawBuilder<unknown>,
  first?: FirstTransition,
): Promise<NewTenantOutcome> {
  if (first?.along.audit) throw new Error("a new tenant's first transition has no audit record of its own");
  const rulesHold = sql<boolean>`(select fingerprint from rules) = ${log.rulesFingerprint}`;
  const proceed = claim ? sql<boolean>`exists (select 1 from claim)` : rulesHold;
  const state = first?.values;
  // The tenant's events are numbered 1, 2, 3… in the order they happen: created, its first transition, its subscription.
  const events = [log.event, ...(first?.along.events ?? []), ...(log.along?.events ?? [])].map((event, index) => ({
    event,
    seq: sql`${index + 1}`,
  }));
  // Without `first`, empty CTEs keep the statement's shape (and its prepared text) the same.
  const logged = first ? timelineInsert(first.at, first.entries, sql`created`) : sql`select 1 where false`;
  const jobs = addJobsPerRow(first?.along.jobs ?? [], sql`created`);
  const rows = await executePrepared(
    db,
    sql<Selectable<TenantsTable> & { rules_hold: boolean; jobs_added: number; notified: number }>`
    with rules as (select ${lockedRulesFingerprint(row.product_id)} as fingerprint),
    ${claim ? sql`claim as (${claim(rulesHold)}),` : sql``}
    created as (
      insert into tenants (id, product_id, name, display_name, specifications, metadata, plan_price_id, created_at, updated_at,
        status, failed_step, last_stable_status, step_id, report_due_at, failure_reason, delete_when_inactive, version, event_seq)
      select ${row.id}::uuid, ${row.product_id}::uuid, ${row.name}, ${row.display_name}, ${row.specifications}::jsonb,
        ${row.metadata}::jsonb, ${row.plan_price_id}::uuid, ${row.created_at}::timestamptz, ${state?.updated_at ?? row.created_at}::timestamptz,
        ${state?.status ?? 'record_created'}, ${state?.failed_step ?? null}::text, ${state?.last_stable_status ?? null}::text,
        ${state?.step_id ?? null}::uuid, ${state?.report_due_at ?? null}::timestamptz, ${state?.failure_reason ?? null}::jsonb,
        ${state?.delete_when_inactive ?? false}::boolean, ${first ? 2 : 1}::int, ${events.length}::bigint
      where ${proceed}
      returning *),
    audited as (${auditInsert(log.actor, log.audit, sql`created`)}),
    ${log.along ? sql`along as (${log.along.cte(sql`created`)}),` : sql``}
    logged as (${logged}),
    jobs as (${jobs}),
    recorded as (${eventsInsert(events, sql`created`)})
    select created.*, ${rulesHold} as rules_hold, (select count(*) from jobs)::int as jobs_added,
      ${notifySequencerOnce(sql`recorded`, row.id)} as notified
    from (select 1) as one left join created on true`,
  );
  const result = rows[0];
  if (!result?.id) return { written: null, rulesChanged: !result?.rules_hold };
  const { rules_hold: _hold, jobs_added: _jobs, notified: _notified, ...written } = result;
  return { written };
}

// A new tenant has no health row yet: every joined health column is null.
const NO_HEALTH = Object.fromEntries(HEALTH_COLUMNS.map((column) => [column.split(' as ')[1], null]));

/** The record of a tenant just inserted, from its row and what the insert already knew (no second read). */
export function newTenantRecord(
  row: Selectable<TenantsTable>,
  joined: { productName: string; productProvisioning: unknown; planPriceName: string | null },
): TenantRecord {
  return {
    ...row,
    product_name: joined.productName,
    product_provisioning: joined.productProvisioning,
    plan_price_name: joined.planPriceName,
    ...NO_HEALTH,
  } as TenantRecord;
}

/** Updates a tenant and bumps its version. */
export async function updateTenant(db: Db, id: string, values: Updateable<TenantsTable>): Promise<void> {
  await db
    .updateTable('tenants')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/** What a call to the backend about a tenant needs: the tenant as a record, and its product's URLs and key. */
export async function findCallContext(db: Db, tenantId: string) {
  const query = tenantQuery(db).select(['products.webhooks', 'products.api_key_encrypted']).where('tenants.id', '=', tenantId);
  const [context] = await executePrepared(db, query);
  return context;
}

/** A tenant with its product's URLs and key, as `findCallContext` reads it. */
export type CallContext = NonNullable<Awaited<ReturnType<typeof findCallContext>>>;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
