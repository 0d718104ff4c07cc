import { sql } from 'kysely';
import { type Db, hotStatement } from '../db/database.ts';
import { turnBatchedRead } from '../db/turn-batch.ts';
import { isUuid } from '../platform/ids.ts';

/** A package of a tenant: one live subscription whose plan the product maps to a Roomle package. */
export interface PackageRow {
  id: string;
  package: string;
  fromPromocode: boolean;
  validFrom: number;
  validTill: number | null;
}

/** A tenant as the Roomle API reads it: the native record's facts, its number, Roomle settings and packages. */
export interface RoomleTenantRow {
  id: string;
  number: number;
  name: string;
  display_name: string;
  status: string;
  product_id: string;
  product_name: string;
  roomle: boolean;
  languages: string[] | null;
  default_language: string | null;
  show_language_switch: boolean | null;
  authentication_required: boolean | null;
  visibility: number | null;
  privacy_url: string | null;
  allow_registration: boolean | null;
  branded: boolean | null;
  skin: unknown;
  configuration: string | null;
  modules: string[] | null;
  webhook_endpoint_id: string | null;
  webhook_url: string | null;
  api_connection_id: string | null;
  api_key_sealed: Buffer | null;
  settings_version: number | null;
  packages: PackageRow[];
}

// One statement per read: the tenant, its Roomle settings, its webhook's URL and its packages.
// Epoch milliseconds in the JSON, so the view formats every instant the same way (ISO with ms, Z).
const SELECT = sql`
  select t.id, t.number, t.name, t.display_name, t.status, t.product_id, p.name as product_name,
    (rp.product_id is not null) as roomle,
    r.languages, r.default_language, r.show_language_switch, r.authentication_required, r.visibility, r.privacy_url,
    r.allow_registration, r.branded, r.skin, r.configuration, r.modules, r.webhook_endpoint_id, w.url as webhook_url,
    r.api_connection_id, r.api_key_sealed, r.version as settings_version,
    coalesce((
      select json_agg(json_build_object(
        'id', s.id, 'package', pk.package, 'fromPromocode', exists (select 1 from promo_redemptions pr where pr.subscription_id = s.id),
        'validFrom', (extract(epoch from s.start_at) * 1000)::bigint,
        'validTill', (extract(epoch from case when s.status = 'trialing' then s.trial_end_at else coalesce(s.cancel_at, s.current_period_end) end) * 1000)::bigint
      ) order by s.start_at, s.id)
      from subscriptions s
      join plan_prices pp on pp.id = s.price_id
      join roomle_packages pk on pk.product_id = s.product_id and pk.plan_id = pp.plan_id
      where s.tenant_id = t.id and s.status in ('trialing', 'active', 'past_due')
    ), '[]'::json) as packages
  from tenants t
  join products p on p.id = t.product_id
  left join roomle_products rp on rp.product_id = t.product_id
  left join roomle_tenants r on r.tenant_id = t.id
  left join webhook_endpoints w on w.id = r.webhook_endpoint_id`;

const byNumbers = hotStatement(
  (_on, p: { numbers: number[] }) => sql<RoomleTenantRow>`${SELECT} where t.number = any(${p.numbers}::bigint[])`,
);
const byIds = hotStatement((_on, p: { ids: string[] }) => sql<RoomleTenantRow>`${SELECT} where t.id = any(${p.ids}::uuid[])`);

/** Each key's row, or undefined: the reads of one statement handed back to their callers. */
function rowsFor<K>(keys: readonly K[], rows: RoomleTenantRow[], keyOf: (row: RoomleTenantRow) => K): (RoomleTenantRow | undefined)[] {
  const found = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => found.get(key));
}

/**
 * The tenant with this Roomle number: the API's hot read, built once as a prepared statement, and shared by the
 * reads of one turn of the event loop (`turnBatchedRead`).
 */
export const findRoomleTenantByNumber = turnBatchedRead(
  async (db, numbers: readonly number[]) => rowsFor(numbers, await byNumbers(db, { numbers: [...numbers] }), (row) => row.number),
  async (tx, number: number) => (await byNumbers(tx, { numbers: [number] }))[0],
);

/** The tenant with this Landlord id (read as {@link findRoomleTenantByNumber} reads). */
export const findRoomleTenantById = turnBatchedRead(
  // One malformed id must not fail the statement the others share.
  async (db, ids: readonly string[]) => rowsFor(ids, await byIds(db, { ids: ids.filter(isUuid) }), (row) => row.id),
  async (tx, id: string) => (isUuid(id) ? (await byIds(tx, { ids: [id] }))[0] : undefined),
);

/** Locks the tenant's row (the write that follows changes it or what hangs off it). */
export async function lockTenantRow(db: Db, id: string): Promise<void> {
  await sql`select 1 from tenants where id = ${id}::uuid for update`.execute(db);
}

/** The products that serve the Roomle API. */
export async function findRoomleProductIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('roomle_products').select('product_id').execute();
  return rows.map((row) => row.product_id);
}

/** Tenants of the products serving the Roomle API (one product's, or all), by number after `after`, at most `limit`. */
export async function findRoomleTenants(db: Db, productId: string | null, after: number, limit: number): Promise<RoomleTenantRow[]> {
  const product = productId ? sql`and t.product_id = ${productId}::uuid` : sql``;
  const rows =
    await sql<RoomleTenantRow>`${SELECT} where rp.product_id is not null and t.number > ${after} ${product} order by t.number limit ${limit}`.execute(
      db,
    );
  return rows.rows;
}
