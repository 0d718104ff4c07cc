import type { Caller } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { MembershipView } from '../people/people.schemas.ts';
import { deleteEventually, takeAction } from '../tenants/lifecycle.service.ts';
import { onboardTenant } from '../tenants/onboarding.ts';
import { createTenant, updateTenantDetails } from '../tenants/tenants.service.ts';
import type { LifecycleDeps } from '../tenants/transitions.ts';
import type { Action } from '../tenants/workflow.ts';
import { codeNameBase, nextCodeName } from './code-names.ts';
import type { ResellerTenantCreateBody, ResellerTenantUpdateBody, ResellerTenantView } from './resellers.schemas.ts';

// "Active" to a reseller: on, or on its way there.
const ON = ['sending_creation_request', 'creating', 'created_as_active', 'sending_activation_request', 'activating', 'active'];
// Off, or on its way there (a record never sent to the backend is off too).
const OFF = ['record_created', 'sending_deactivation_request', 'deactivating', 'inactive'];

function resellerTenantQuery(db: Db) {
  return db
    .selectFrom('reseller_tenants')
    .innerJoin('tenants', 'tenants.id', 'reseller_tenants.tenant_id')
    .select([
      'tenants.id',
      'tenants.name',
      'tenants.display_name',
      'tenants.status',
      'tenants.created_at',
      'reseller_tenants.customer_reference',
      'reseller_tenants.contact_email',
      'reseller_tenants.default_language',
      'reseller_tenants.languages',
      'reseller_tenants.options',
    ]);
}
type ResellerTenantRow = Awaited<ReturnType<ReturnType<typeof resellerTenantQuery>['executeTakeFirstOrThrow']>>;

/** A tenant as the reseller sees it. */
export function toResellerTenantView(row: ResellerTenantRow): ResellerTenantView {
  return {
    codeName: row.name,
    customerReference: row.customer_reference,
    active: ON.includes(row.status),
    status: row.status,
    fullName: row.display_name,
    email: row.contact_email,
    defaultLanguage: row.default_language,
    languages: row.languages,
    options: row.options,
    createdAt: row.created_at.toISOString(),
  };
}

/** A tenant user as the reseller API shows it. */
export function toResellerUser(view: MembershipView) {
  return {
    login: view.login,
    fullName: view.fullName,
    email: view.email,
    permissions: view.permissions,
    defaultLanguage: view.defaultLanguage,
    status: view.status,
  };
}

/** The tenant `codeName` if this reseller created it; any other tenant is 404, as if it did not exist. */
export async function ownedTenant(db: Db, caller: Caller, codeName: string): Promise<ResellerTenantRow> {
  const row = await resellerTenantQuery(db)
    .where('reseller_tenants.reseller_id', '=', caller.principal.id)
    .where('tenants.name', '=', codeName.toLowerCase())
    .executeTakeFirst();
  if (!row) throw new AppError('tenant.not_found', { message: `No tenant "${codeName}"`, parameter: 'codeName' });
  return row;
}

/**
 * Creates a tenant for the reseller's product under a new code name (prefix, customer
 * reference, number). Active (the default), it goes through `onboardTenant`, so the
 * product's backend gets its creation request; `active: false` records it only, and
 * making it active later sends the creation request.
 */
export async function createResellerTenant(db: Db, deps: LifecycleDeps, caller: Caller, body: ResellerTenantCreateBody): Promise<string> {
  const reseller = await db
    .selectFrom('resellers')
    .select(['id', 'product_id', 'code_prefix'])
    .where('id', '=', caller.principal.id)
    .executeTakeFirstOrThrow();
  const name = await nextCodeName(db, codeNameBase(reseller.code_prefix, body.customerReference));
  const tenant = { product: reseller.product_id, name, displayName: body.fullName };
  const record = body.active === false ? await createTenant(db, deps, caller, tenant) : await onboardTenant(db, deps, caller, tenant);
  await db
    .insertInto('reseller_tenants')
    .values({
      tenant_id: record.id,
      reseller_id: reseller.id,
      customer_reference: body.customerReference,
      contact_email: body.email ?? null,
      default_language: body.defaultLanguage ?? null,
      languages: body.languages ?? [],
      options: body.options ?? [],
      created_at: deps.clock.now(),
    })
    .execute();
  return record.name;
}

/** One page of the reseller's tenants, oldest first. */
export async function listResellerTenants(db: Db, caller: Caller, cursor: string | undefined, limit: number) {
  let query = resellerTenantQuery(db)
    .where('reseller_tenants.reseller_id', '=', caller.principal.id)
    .orderBy('tenants.id')
    .limit(limit + 1);
  const after = decodeCursor(cursor, UUID_KEY);
  if (after) query = query.where('tenants.id', '>', after);
  return toPage(await query.execute(), limit, (row) => row.id);
}

/** Changes what the reseller says about a tenant, and turns it on or off with `active`. */
export async function updateResellerTenant(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  codeName: string,
  body: ResellerTenantUpdateBody,
): Promise<ResellerTenantView> {
  const current = await ownedTenant(db, caller, codeName);
  if (body.fullName !== undefined) await updateTenantDetails(db, deps, caller, current.id, { displayName: body.fullName }, undefined);
  const profile = {
    ...(body.email !== undefined && { contact_email: body.email }),
    ...(body.defaultLanguage !== undefined && { default_language: body.defaultLanguage }),
    ...(body.languages !== undefined && { languages: body.languages }),
    ...(body.options !== undefined && { options: body.options }),
  };
  if (Object.keys(profile).length > 0) {
    await db.updateTable('reseller_tenants').set(profile).where('tenant_id', '=', current.id).execute();
    await insertAuditRecord(db, caller.actor, {
      action: 'reseller_tenant.update',
      objectType: 'reseller_tenant',
      objectId: current.id,
      productId: caller.principal.productId,
      tenantId: current.id,
      before: toResellerTenantView(current),
      after: toResellerTenantView(await ownedTenant(db, caller, codeName)),
    });
  }
  const action = body.active === undefined ? undefined : activeAction(current.status, body.active);
  if (action) await takeAction(db, deps, caller, current.id, action, `reseller: active ${body.active}`);
  return toResellerTenantView(await ownedTenant(db, caller, codeName));
}

/**
 * The lifecycle action that makes the tenant (in)active, or none when it already is.
 * From any other status the action is still taken, so the workflow's 409 says why not.
 */
function activeAction(status: string, active: boolean): Action | undefined {
  if (active) {
    if (ON.includes(status)) return undefined;
    return status === 'record_created' ? 'send_creation_request' : 'activate';
  }
  return OFF.includes(status) ? undefined : 'deactivate';
}

/**
 * Deletes a tenant through the lifecycle, as a customer's cancellation: a live tenant
 * is deactivated first and deleted once inactive (`deleteEventually`).
 */
export async function deleteResellerTenant(db: Db, deps: LifecycleDeps, caller: Caller, codeName: string): Promise<ResellerTenantView> {
  const current = await ownedTenant(db, caller, codeName);
  await deleteEventually(db, deps, caller, current.id, 'reseller: delete');
  return toResellerTenantView(await ownedTenant(db, caller, codeName));
}
