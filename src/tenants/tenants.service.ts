import type { RawBuilder } from 'kysely';
import { type Caller, canSeeProduct, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { findPriceForProduct } from '../catalogue/prices.repo.ts';
import { checkSpecificationValues } from '../catalogue/specification-values.ts';
import { findProductWithRules, findPublishedSpecificationRules, rulesFingerprint } from '../catalogue/specifications.repo.ts';
import { newTenantSubscription } from '../commerce/tenant-hooks.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError, assertNoProblems } from '../errors/app-error.ts';
import { eventFromAudit } from '../events/event-types.ts';
import { toHealthView } from '../health/health.view.ts';
import { assertIfMatch } from '../http/etag.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid, newId } from '../platform/ids.ts';
import { assertVisibleProduct, getVisibleProduct } from '../products/products.service.ts';
import type { TenantRecord } from './tenants.repo.ts';
import * as repo from './tenants.repo.ts';
import { METADATA_MAX_BYTES, type TenantCreateBody, type TenantUpdateBody, type TenantView } from './tenants.schemas.ts';
import type { TransitionPlan } from './transitions.ts';
import { availableActions, type Status, type Step, type WorkflowActor } from './workflow.ts';

/** What tenant operations need beyond the database. */
export interface TenantDeps {
  clock: Clock;
}

/** The workflow actor a credential acts as: product clients are the product's external system. */
export function workflowActorOf(principal: Principal): WorkflowActor {
  return principal.role === 'client' ? 'external_system' : 'operator';
}

/** The API view of a tenant, with the lifecycle actions `principal` may take now. */
export function toTenantView(record: TenantRecord, principal: Principal): TenantView {
  const facts = tenantFacts(record);
  return { ...facts, actions: availableActions({ status: facts.status, failedStep: facts.failedStep }, workflowActorOf(principal)) };
}

/** A tenant as it is, whoever looks (events carry this). */
export function tenantFacts(record: TenantRecord): Omit<TenantView, 'actions'> {
  const state = { status: record.status as Status, failedStep: record.failed_step as Step | null };
  return {
    id: record.id,
    name: record.name,
    displayName: record.display_name,
    product: { id: record.product_id, name: record.product_name },
    status: state.status,
    failedStep: state.failedStep,
    specifications: record.specifications,
    metadata: record.metadata,
    planPrice: record.plan_price_id && record.plan_price_name ? { id: record.plan_price_id, name: record.plan_price_name } : null,
    health: toHealthView(record),
    createdAt: record.created_at.toISOString(),
    updatedAt: record.updated_at.toISOString(),
  };
}

/** The tenant `ref` (id or name) if the caller may see it; otherwise 404, as if it did not exist. */
export async function getVisibleTenant(db: Db, principal: Principal, ref: string, options: { lock?: boolean } = {}): Promise<TenantRecord> {
  const record = await (options.lock ? repo.lockTenant(db, ref) : repo.findTenant(db, ref));
  if (!record || !canSeeProduct(principal, record.product_id)) throw new AppError('tenant.not_found', { parameter: 'tenant' });
  return record;
}

/** One page of the tenants the caller may see, filtered. */
export async function listTenants(
  db: Db,
  principal: Principal,
  query: { product?: string; status?: string; q?: string; cursor?: string; limit: number; health?: string; planPriceId?: string },
) {
  const productId = query.product ? (await getVisibleProduct(db, principal, query.product)).id : (principal.productId ?? undefined);
  const rows = await repo.findTenants(
    db,
    {
      productId,
      status: query.status,
      prefix: query.q,
      afterId: decodeCursor(query.cursor, UUID_KEY),
      health: query.health,
      planPriceId: query.planPriceId,
    },
    query.limit,
  );
  return toPage(rows, query.limit, (row) => row.id);
}

/** A new tenant, checked and ready to write: its row, the record the API shows, and how to log it. */
export interface NewTenant {
  row: repo.NewTenantRow;
  record: TenantRecord;
  log: Parameters<typeof repo.insertTenantLogged>[2];
}

/**
 * Checks a new tenant (its name, product, specification values and plan) with reads
 * that lock nothing, and works out everything its write will store.
 */
export async function prepareTenant(db: Db, deps: TenantDeps, caller: Caller, body: TenantCreateBody): Promise<NewTenant> {
  const { principal } = caller;
  requireRole(principal, 'super_admin', 'product_admin', 'client');
  const productRef = body.product ?? principal.productId;
  if (!productRef) throw new AppError('request.invalid', { message: '"product" is required', parameter: 'product' });
  // Paths accept an id or a name, so a name must never look like an id.
  if (isUuid(body.name))
    throw new AppError('request.invalid', { message: 'A tenant name cannot have the shape of a UUID', parameter: 'name' });
  const product = assertVisibleProduct(principal, await findProductWithRules(db, productRef));
  const checked = checkSpecificationValues(product.rules, body.specifications ?? {});
  assertNoProblems(checked.problems);

  let planPrice: Awaited<ReturnType<typeof findPriceForProduct>> | null = null;
  if (body.plan !== undefined) {
    const price = await findPriceForProduct(db, product.id, body.plan);
    if (!price) throw new AppError('tenant.invalid_plan', { message: `The product has no plan price "${body.plan}"`, parameter: 'plan' });
    if (!price.published || !price.plan_published) throw new AppError('price.not_published', { parameter: 'plan' });
    planPrice = price;
  }

  const now = deps.clock.now();
  const row: repo.NewTenantRow = {
    id: newId(),
    product_id: product.id,
    name: body.name,
    display_name: body.displayName,
    specifications: JSON.stringify(checked.values),
    metadata: JSON.stringify(checkedMetadata(body.metadata ?? {})),
    plan_price_id: planPrice?.id ?? null,
    created_at: now,
  };
  const record = repo.newTenantRecord(
    {
      ...row,
      specifications: checked.values,
      metadata: JSON.parse(row.metadata),
      status: 'record_created',
      failed_step: null,
      last_stable_status: null,
      step_id: null,
      report_due_at: null,
      failure_reason: null,
      delete_when_inactive: false,
      version: 1,
      updated_at: now,
      event_seq: 1,
    },
    { productName: product.name, productProvisioning: product.provisioning, planPriceName: planPrice?.name ?? null },
  );
  const audit = {
    action: 'tenant.create',
    objectType: 'tenant',
    objectId: row.id,
    productId: product.id,
    after: toTenantView(record, principal),
  };
  const event = eventFromAudit(audit);
  if (!event) throw new Error('tenant.create has no event');
  // commerce: a tenant created on a price is subscribed to it in the same statement.
  const along = planPrice ? await newTenantSubscription(db, deps.clock, { tenantId: row.id, price: planPrice }) : undefined;
  return { row, record, log: { actor: caller.actor, audit, event, rulesFingerprint: rulesFingerprint(product.rules), along } };
}

/**
 * Writes a prepared tenant in one statement: its record (status `record_created`) or,
 * with `transition`, the record and the transition it takes at once. `claim` (an idempotency
 * claim for the tenant as written) goes in the same statement; `null` when it was
 * refused. Specifications changed since they were read: `prepare` again, a few times.
 */
export async function writeTenant(
  db: Db,
  prepared: NewTenant,
  options: {
    claim?: (when: RawBuilder<boolean>, record: TenantRecord) => RawBuilder<unknown>;
    prepare?: () => Promise<NewTenant>;
    transition?: (record: TenantRecord) => TransitionPlan;
  } = {},
): Promise<TenantRecord | null> {
  const { claim, prepare, transition } = options;
  let next = prepared;
  for (let attempt = 1; ; attempt++) {
    const plan = transition?.(next.record);
    const record = plan?.updated ?? next.record;
    let outcome: repo.NewTenantOutcome;
    try {
      outcome = await repo.insertTenantLogged(db, next.row, next.log, claim && ((when) => claim(when, record)), plan);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError('tenant.name_taken', { message: `A tenant named "${next.row.name}" exists already`, parameter: 'name' });
      throw error;
    }
    if (outcome.written) return { ...record, ...outcome.written } as TenantRecord;
    if (!outcome.rulesChanged) return null;
    if (!prepare || attempt === 3) throw new AppError('specification.changed_concurrently', { parameter: 'specifications' });
    next = await prepare();
  }
}

/** Creates a tenant record (status `record_created`) after checking its specifications and plan. */
export async function createTenant(db: Db, deps: TenantDeps, caller: Caller, body: TenantCreateBody): Promise<TenantRecord> {
  const prepare = () => prepareTenant(db, deps, caller, body);
  const record = await writeTenant(db, await prepare(), { prepare });
  if (!record) throw new Error('a tenant written without a claim was refused');
  return record;
}

/** Changes a tenant's display name or specification values (merged; null removes a value). */
export async function updateTenantDetails(
  db: Db,
  deps: TenantDeps,
  caller: Caller,
  ref: string,
  body: TenantUpdateBody,
  ifMatch: string | undefined,
): Promise<TenantRecord> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const current = await getVisibleTenant(db, caller.principal, ref, { lock: true });
  assertIfMatch(ifMatch, current);
  let specifications: Record<string, unknown> | undefined;
  const changes = body.specifications;
  if (changes) {
    const rules = await findPublishedSpecificationRules(db, current.product_id, { forShare: true });
    const merged = { ...current.specifications, ...changes };
    const checked = checkSpecificationValues(rules, merged);
    // Values of specifications unpublished since they were set are kept as they are.
    assertNoProblems(checked.problems.filter((problem) => problem.parameter.slice('specifications.'.length) in changes));
    specifications = Object.fromEntries(Object.entries({ ...merged, ...checked.values }).filter(([, value]) => value !== null));
  }
  return saveTenant(db, deps, caller, current, 'tenant.update', {
    ...(body.displayName !== undefined && { display_name: body.displayName }),
    ...(specifications !== undefined && { specifications: JSON.stringify(specifications) }),
  });
}

/** Replaces (`merge: false`, PUT) or merges (`merge: true`, PATCH, RFC 7386) a tenant's metadata. */
export async function writeTenantMetadata(
  db: Db,
  deps: TenantDeps,
  caller: Caller,
  ref: string,
  metadata: Record<string, unknown>,
  options: { merge: boolean; ifMatch?: string },
): Promise<TenantRecord> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const current = await getVisibleTenant(db, caller.principal, ref, { lock: true });
  assertIfMatch(options.ifMatch, current);
  const next = options.merge ? mergePatch(current.metadata, metadata) : metadata;
  return saveTenant(db, deps, caller, current, 'tenant.metadata', { metadata: JSON.stringify(checkedMetadata(next)) });
}

async function saveTenant(
  db: Db,
  deps: TenantDeps,
  caller: Caller,
  current: TenantRecord,
  action: string,
  values: Parameters<typeof repo.updateTenant>[2],
): Promise<TenantRecord> {
  await repo.updateTenant(db, current.id, { ...values, updated_at: deps.clock.now() });
  const record = await repo.findTenant(db, current.id);
  if (!record) throw new Error('tenant vanished inside its own transaction');
  await insertAuditRecord(db, caller.actor, {
    action,
    objectType: 'tenant',
    objectId: current.id,
    productId: current.product_id,
    before: toTenantView(current, caller.principal),
    after: toTenantView(record, caller.principal),
  });
  return record;
}

/** JSON Merge Patch (RFC 7386): objects merge key by key, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): Record<string, unknown> {
  const base = isPlainObject(target) ? { ...target } : {};
  if (!isPlainObject(patch)) return base;
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = isPlainObject(value) ? mergePatch(base[key], value) : value;
  }
  return base;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkedMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const size = Buffer.byteLength(JSON.stringify(metadata));
  if (size > METADATA_MAX_BYTES) {
    throw new AppError('request.invalid', {
      message: `metadata is ${size} bytes; at most ${METADATA_MAX_BYTES} are kept`,
      parameter: 'metadata',
    });
  }
  return metadata;
}
