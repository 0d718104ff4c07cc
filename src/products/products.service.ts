import { randomBytes } from 'node:crypto';
import { maskSecret } from '../access/credential-format.ts';
import { type Caller, canSeeProduct, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { ProductRow } from '../db/schema.ts';
import { AppError, assertNoProblems, errorItem } from '../errors/app-error.ts';
import { assertIfMatch } from '../http/etag.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid, newId } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { urlTemplateProblem } from '../platform/url-template.ts';
import * as repo from './products.repo.ts';
import {
  DEFAULT_HEALTH_CHECK,
  DEFAULT_PROVISIONING,
  type HealthCheckSettings,
  type ProductCreateBody,
  type ProductUpdateBody,
  type ProductView,
  type ProvisioningSettings,
  WEBHOOK_EVENTS,
} from './products.schemas.ts';

/** What product operations need beyond the database. */
export interface ProductDeps {
  box: SecretBox;
  clock: Clock;
}

/** The API view of a product; the api key is masked unless `apiKey` (just set) is given. */
export function toProductView(row: ProductRow, box: SecretBox, revealed?: string): ProductView {
  const apiKey = revealed ?? (row.api_key_encrypted ? maskSecret(box.open(row.api_key_encrypted)) : null);
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    apiKey,
    webhooks: row.webhooks,
    healthCheck: row.health_check as HealthCheckSettings,
    provisioning: row.provisioning as ProvisioningSettings,
    signInUrl: row.sign_in_url,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The product `ref` (id or name) if the caller may see it; a foreign product is 404, as if it did not exist. */
export async function getVisibleProduct(db: Db, principal: Principal, ref: string, forUpdate = false): Promise<ProductRow> {
  return assertVisibleProduct(principal, await repo.findProduct(db, ref, { forUpdate }));
}

/** The product read, if the caller may see it; otherwise 404, as if it did not exist. */
export function assertVisibleProduct<T extends ProductRow>(principal: Principal, row: T | undefined): T {
  if (!row || !canSeeProduct(principal, row.id)) throw new AppError('product.not_found', { parameter: 'product' });
  return row;
}

/** One page of the products the caller may see. */
export async function listProducts(db: Db, principal: Principal, cursor: string | undefined, limit: number) {
  const rows = await repo.findProducts(db, { onlyId: principal.productId, afterId: decodeCursor(cursor, UUID_KEY), limit });
  return toPage(rows, limit, (row) => row.id);
}

/** Creates a product (super admins only). */
export async function createProduct(db: Db, deps: ProductDeps, caller: Caller, body: ProductCreateBody): Promise<ProductView> {
  requireRole(caller.principal, 'super_admin');
  // Paths accept an id or a name, so a name must never look like an id.
  if (isUuid(body.name))
    throw new AppError('request.invalid', { message: 'A product name cannot have the shape of a UUID', parameter: 'name' });
  const webhooks = mergeWebhooks({}, body.webhooks);
  const apiKey = body.apiKey ?? randomBytes(24).toString('base64url');
  const now = deps.clock.now();
  let row: ProductRow;
  try {
    row = await repo.insertProduct(db, {
      id: newId(),
      name: body.name,
      display_name: body.displayName,
      api_key_encrypted: deps.box.seal(apiKey),
      api_key_hint: apiKey.slice(-4),
      webhooks: JSON.stringify(webhooks),
      health_check: JSON.stringify(mergeHealthCheck(DEFAULT_HEALTH_CHECK, body.healthCheck)),
      provisioning: JSON.stringify({ ...DEFAULT_PROVISIONING, ...body.provisioning }),
      sign_in_url: body.signInUrl ?? null,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AppError('product.name_taken', { parameter: 'name', message: `A product named "${body.name}" exists already` });
    throw error;
  }
  const view = toProductView(row, deps.box);
  await insertAuditRecord(db, caller.actor, {
    action: 'product.create',
    objectType: 'product',
    objectId: row.id,
    productId: row.id,
    after: view,
  });
  return toProductView(row, deps.box, apiKey);
}

/** Changes a product's settings (super admins, or the product's own admins). */
export async function updateProductSettings(
  db: Db,
  deps: ProductDeps,
  caller: Caller,
  ref: string,
  body: ProductUpdateBody,
  ifMatch: string | undefined,
): Promise<{ view: ProductView; row: ProductRow }> {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const current = await getVisibleProduct(db, caller.principal, ref, true);
  assertIfMatch(ifMatch, current);
  const before = toProductView(current, deps.box);
  const row = await repo.updateProduct(db, current.id, {
    ...(body.displayName !== undefined && { display_name: body.displayName }),
    ...(body.apiKey !== undefined && { api_key_encrypted: deps.box.seal(body.apiKey), api_key_hint: body.apiKey.slice(-4) }),
    ...(body.webhooks !== undefined && { webhooks: JSON.stringify(mergeWebhooks(current.webhooks, body.webhooks)) }),
    ...(body.healthCheck !== undefined && {
      health_check: JSON.stringify(mergeHealthCheck(current.health_check as HealthCheckSettings, body.healthCheck)),
    }),
    ...(body.provisioning !== undefined && {
      provisioning: JSON.stringify({ ...(current.provisioning as ProvisioningSettings), ...body.provisioning }),
    }),
    ...(body.signInUrl !== undefined && { sign_in_url: body.signInUrl }),
    updated_at: deps.clock.now(),
  });
  const after = toProductView(row, deps.box);
  await insertAuditRecord(db, caller.actor, {
    action: 'product.update',
    objectType: 'product',
    objectId: row.id,
    productId: row.id,
    before,
    after,
  });
  return { view: body.apiKey === undefined ? after : toProductView(row, deps.box, body.apiKey), row };
}

/** Deletes a product with its catalogue and clients; refused while it has tenants that are not deleted. */
export async function deleteProduct(db: Db, deps: ProductDeps, caller: Caller, ref: string, ifMatch: string | undefined): Promise<string> {
  requireRole(caller.principal, 'super_admin');
  const current = await getVisibleProduct(db, caller.principal, ref, true);
  assertIfMatch(ifMatch, current);
  const live = await repo.countLiveTenants(db, current.id);
  if (live > 0)
    throw new AppError('product.in_use', { message: `The product has ${live} tenant(s) that are not deleted; delete them first` });
  await repo.deleteProduct(db, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'product.delete',
    objectType: 'product',
    objectId: current.id,
    productId: current.id,
    before: toProductView(current, deps.box),
  });
  return current.id;
}

/** What is missing before the product can be used end to end. */
export async function productWarnings(db: Db, row: ProductRow) {
  const readiness = await repo.findProductReadiness(db, row.id);
  const warnings = [];
  const webhooks = row.webhooks;
  for (const event of ['creation', 'activation', 'deactivation', 'deletion'] as const) {
    if (!webhooks[event])
      warnings.push({
        code: `webhooks.${event}_missing`,
        message: `No ${event} URL: tenants cannot go through ${event}`,
        parameter: `webhooks.${event}`,
      });
  }
  if (!webhooks.unavailable)
    warnings.push({
      code: 'webhooks.unavailable_missing',
      message: 'No unavailable URL: the backend is not told when a tenant is down',
      parameter: 'webhooks.unavailable',
    });
  if (!row.api_key_encrypted)
    warnings.push({ code: 'api_key.missing', message: 'No api key: calls to the backend carry no api-key header', parameter: 'apiKey' });
  if (!(row.health_check as HealthCheckSettings).url)
    warnings.push({
      code: 'health_check.url_missing',
      message: 'No health-check URL: tenant health is not watched',
      parameter: 'healthCheck.url',
    });
  if (readiness.publishedPrices === 0)
    warnings.push({
      code: 'plan.none_published',
      message: 'No published plan with a published price: nothing can be sold',
      parameter: 'plans',
    });
  if (readiness.activeClients === 0)
    warnings.push({ code: 'client.none', message: 'No client: the backend cannot call Landlord back', parameter: 'clients' });
  if (!row.sign_in_url)
    warnings.push({
      code: 'sign_in_url.missing',
      message: 'No sign-in URL: one-time login links have nowhere to go',
      parameter: 'signInUrl',
    });
  return warnings;
}

function mergeWebhooks(current: Record<string, string>, patch: Partial<Record<string, string | null>> | undefined): Record<string, string> {
  const merged: Record<string, string> = { ...current };
  const problems = [];
  for (const [event, url] of Object.entries(patch ?? {})) {
    if (url === null || url === undefined || url === '') {
      delete merged[event];
      continue;
    }
    const problem = urlTemplateProblem(url);
    if (problem) problems.push(errorItem('request.invalid', `webhooks.${event} ${problem}`, `webhooks.${event}`));
    merged[event] = url;
  }
  assertNoProblems(problems);
  // Keep keys in the documented order.
  return Object.fromEntries(WEBHOOK_EVENTS.filter((event) => merged[event]).map((event) => [event, merged[event] as string]));
}

function mergeHealthCheck(current: HealthCheckSettings, patch: Partial<HealthCheckSettings> | undefined): HealthCheckSettings {
  const merged = { ...current, ...patch };
  if (merged.url) {
    const problem = urlTemplateProblem(merged.url);
    if (problem) throw new AppError('request.invalid', { message: `healthCheck.url ${problem}`, parameter: 'healthCheck.url' });
  }
  if (merged.timeoutSeconds > merged.intervalSeconds) {
    throw new AppError('request.invalid', {
      message: 'healthCheck.timeoutSeconds must not exceed healthCheck.intervalSeconds',
      parameter: 'healthCheck.timeoutSeconds',
    });
  }
  return merged;
}
