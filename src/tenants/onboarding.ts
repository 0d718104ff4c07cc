import type { Caller } from '../access/principal.ts';
import { startTenantSubscription } from '../commerce/tenant-hooks.ts';
import type { Db } from '../db/database.ts';
import type { StoredAnswer, WriteClaim } from '../http/idempotency.ts';
import type { ProvisioningSettings } from '../products/products.schemas.ts';
import type { TenantRecord } from './tenants.repo.ts';
import type { TenantCreateBody } from './tenants.schemas.ts';
import { prepareTenant, writeTenant } from './tenants.service.ts';
import { type LifecycleDeps, planTransition } from './transitions.ts';

/** An idempotency claim to make with the tenant's write, and the answer to store for the tenant written. */
export interface OnboardingClaim {
  claim: WriteClaim;
  answer: (record: TenantRecord) => StoredAnswer;
}

/**
 * Creates a tenant and, when its product says so (`provisioning.autoSendCreation`),
 * starts its creation step: the record, the step's transition, its call job, the
 * events and the idempotency claim with its answer are one statement. Every channel
 * that creates tenants (native API, RoSaaS, resellers) goes through here. `null`
 * means `claim` was refused (another request holds the key: replay its answer).
 */
export async function onboardTenant(db: Db, deps: LifecycleDeps, caller: Caller, body: TenantCreateBody): Promise<TenantRecord>;
export async function onboardTenant(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  body: TenantCreateBody,
  idempotency: OnboardingClaim,
): Promise<TenantRecord | null>;
export async function onboardTenant(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  body: TenantCreateBody,
  idempotency?: OnboardingClaim,
): Promise<TenantRecord | null> {
  const prepare = () => prepareTenant(db, deps, caller, body);
  const prepared = await prepare();
  const provisioning = prepared.record.product_provisioning as ProvisioningSettings;
  const who = { actor: caller.actor, as: 'system' as const };
  const sendCreation = (record: TenantRecord) =>
    planTransition(deps, record, 'send_creation_request', who, { reason: 'provisioning.autoSendCreation' });
  const record = await writeTenant(db, prepared, {
    prepare,
    claim: idempotency && ((when, record) => idempotency.claim.cte({ answer: idempotency.answer(record), when })),
    transition: provisioning.autoSendCreation ? sendCreation : undefined,
  });
  // commerce: the subscription written with the tenant opens its first period now (else the renewals sweep does).
  if (record && prepared.log.along) await startTenantSubscription(db, deps.clock, record.id);
  return record;
}
