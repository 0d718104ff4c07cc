import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import { compileOnly, type Db, prepareStatement } from '../db/database.ts';
import type { TenantsTable } from '../db/schema.ts';
import { HEALTH_COLUMNS } from '../health/health.view.ts';
import { isUuid } from '../platform/ids.ts';

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
}

/** One page of tenants in id order (`limit + 1` rows, to tell whether more follow). */
export async function findTenants(db: Db, filter: TenantFilter, limit: number): Promise<TenantRecord[]> {
  let query = tenantQuery(db)
    .orderBy('tenants.id')
    .limit(limit + 1);
  if (filter.productId) query = query.where('tenants.product_id', '=', filter.productId);
  if (filter.status) query = query.where('tenants.status', '=', filter.status);
  if (filter.afterId) query = query.where('tenants.id', '>', filter.afterId);
  if (filter.prefix) {
    const pattern = `${escapeLike(filter.prefix.toLowerCase())}%`;
    query = query.where((eb) => eb.or([eb('tenants.name', 'like', pattern), eb(sql`lower(tenants.display_name)`, 'like', pattern)]));
  }
  return query.execute();
}

/** Inserts a tenant; a taken name raises 23505. */
export async function insertTenant(db: Db, values: Insertable<TenantsTable>): Promise<Selectable<TenantsTable>> {
  return db.insertInto('tenants').values(values).returningAll().executeTakeFirstOrThrow();
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

/** What a call to the backend about a tenant needs: the tenant and its product's URLs, key and settings. */
export async function findCallContext(db: Db, tenantId: string) {
  return db
    .selectFrom('tenants')
    .innerJoin('products', 'products.id', 'tenants.product_id')
    .select([
      'tenants.id',
      'tenants.name',
      'tenants.status',
      'tenants.step_id',
      'tenants.specifications',
      'products.webhooks',
      'products.api_key_encrypted',
      'products.provisioning',
    ])
    .where('tenants.id', '=', tenantId)
    .executeTakeFirst();
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
