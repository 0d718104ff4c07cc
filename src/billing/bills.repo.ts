import { type Insertable, type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import type { Actor } from '../access/principal.ts';
import { type AuditEntry, auditInsert } from '../audit/audit.repo.ts';
import { type Db, executePrepared } from '../db/database.ts';
import type { BillsTable, RecurringBillsTable } from '../db/schema.ts';
import { findTenantPage, type TenantPageFilter } from '../db/tenant-page.ts';
import { eventsInsert, type NewEvent } from '../events/events.repo.ts';

export type BillRow = Selectable<BillsTable>;
export type RecurringBillRow = Selectable<RecurringBillsTable>;

/** Inserts a bill; a second bill for one execution of a recurring bill raises 23505. */
export async function insertBill(db: Db, values: Insertable<BillsTable>): Promise<BillRow> {
  return db.insertInto('bills').values(values).returningAll().executeTakeFirstOrThrow();
}

/** One bill by id; `lock` locks it. */
export async function findBill(db: Db, id: string, options: { lock?: boolean } = {}): Promise<BillRow | undefined> {
  let query = db.selectFrom('bills').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Updates a bill (held locked) and bumps its version. */
export async function updateBill(db: Db, id: string, values: Updateable<BillsTable>): Promise<BillRow> {
  return db
    .updateTable('bills')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** One page of a tenant's bills, newest first (`limit + 1` rows). */
export async function findBills(db: Db, tenantId: string, filter: TenantPageFilter, limit: number): Promise<BillRow[]> {
  return findTenantPage(db, 'bills', tenantId, filter, limit);
}

/** Inserts a recurring bill. */
export async function insertRecurringBill(db: Db, values: Insertable<RecurringBillsTable>): Promise<RecurringBillRow> {
  return db.insertInto('recurring_bills').values(values).returningAll().executeTakeFirstOrThrow();
}

/** One recurring bill by id; `lock` locks it. */
export async function findRecurringBill(db: Db, id: string, options: { lock?: boolean } = {}): Promise<RecurringBillRow | undefined> {
  let query = db.selectFrom('recurring_bills').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Updates a recurring bill (held locked) and bumps its version. */
export async function updateRecurringBill(db: Db, id: string, values: Updateable<RecurringBillsTable>): Promise<RecurringBillRow> {
  return db
    .updateTable('recurring_bills')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** One page of a tenant's recurring bills, newest first (`limit + 1` rows). */
export async function findRecurringBills(db: Db, tenantId: string, filter: TenantPageFilter, limit: number): Promise<RecurringBillRow[]> {
  return findTenantPage(db, 'recurring_bills', tenantId, filter, limit);
}

/** What charging a tenant reads besides the tenant: its live subscription (if any) and its product's billing settings. */
export interface ChargeContext {
  subscription_currency: string | null;
  current_period_end: Date | null;
  time_zone: string | null;
  clock_offset_ms: string | number | null;
}

/**
 * The select of a tenant's charge context, the tenant and product given as SQL expressions: parameters, or
 * columns of an outer query that reads the tenant (a marketplace's group) and its context in one statement.
 */
export function chargeContextSelect(tenantId: RawBuilder<unknown>, productId: RawBuilder<unknown>): RawBuilder<ChargeContext> {
  return sql<ChargeContext>`
    select s.currency as subscription_currency, s.current_period_end, b.time_zone, b.clock_offset_ms
    from (select 1) as one
    left join subscriptions s on s.tenant_id = ${tenantId} and s.status in ('pending', 'trialing', 'active', 'past_due')
    left join product_billing b on b.product_id = ${productId}`;
}

/** The tenant's live subscription and its product's billing settings, in one round trip (nulls for either missing). */
export async function findChargeContext(db: Db, tenantId: string, productId: string): Promise<ChargeContext> {
  const rows = await executePrepared(db, chargeContextSelect(sql`${tenantId}::uuid`, sql`${productId}::uuid`));
  return rows[0] as ChargeContext;
}

/**
 * Writes a one-off bill with its audit record and its `bill.created` event (the tenant's next number) in one
 * statement: one round trip, atomic without a `begin`. The tenant's row is locked by taking the event number,
 * and the bill is written only if the tenant is not deleted by then (re-checked, as it was read unlocked):
 * undefined when it was, and nothing is written. `guard`, a select that locks what else the bill relies on
 * (a marketplace's group, still undeleted), must find a row too: it is taken first, before the tenant.
 * The statement sends no NOTIFY (it would serialise bills' commits): the caller nudges the sequencer after it.
 */
export async function insertBillLogged(
  db: Db,
  bill: Insertable<BillsTable> & { id: string; tenant_id: string },
  log: { actor: Actor; audit: AuditEntry; event: NewEvent },
  guard?: RawBuilder<unknown>,
): Promise<BillRow | undefined> {
  const guarded = guard ? sql`guard as (${guard}),` : sql``;
  const rows = await executePrepared(
    db,
    sql<BillRow>`
    with ${guarded} seq as (
      update tenants set event_seq = event_seq + 1 where id = ${bill.tenant_id}::uuid and status <> 'deleted'
        ${guard ? sql`and exists (select 1 from guard)` : sql``} returning event_seq),
    created as (
      insert into bills (id, product_id, tenant_id, price_cents, currency, description, units, period_started_at, period_ended_at,
        status, invoice_at, created_at, updated_at)
      select ${bill.id}::uuid, ${bill.product_id}::uuid, ${bill.tenant_id}::uuid, ${bill.price_cents}::bigint, ${bill.currency},
        ${bill.description}, ${bill.units}::numeric, ${bill.period_started_at}::timestamptz, ${bill.period_ended_at}::timestamptz,
        ${bill.status}, ${bill.invoice_at}::timestamptz, ${bill.created_at}::timestamptz, ${bill.updated_at}::timestamptz
      from seq
      returning *),
    audited as (${auditInsert(log.actor, log.audit, sql`created`)}),
    recorded as (${eventsInsert([{ event: log.event, seq: sql`seq.event_seq` }], sql`seq`)})
    select created.* from (select 1) as one left join created on true`,
  );
  const row = rows[0];
  return row?.id ? row : undefined;
}
