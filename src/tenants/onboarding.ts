import type { Caller } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { type LifecycleDeps, sendCreationIfAutomatic } from './lifecycle.service.ts';
import type { TenantRecord } from './tenants.repo.ts';
import type { TenantCreateBody } from './tenants.schemas.ts';
import { createTenant } from './tenants.service.ts';

/**
 * Creates a tenant and, when its product says so (`provisioning.autoSendCreation`),
 * starts the creation step in the same transaction. Every channel that creates
 * tenants (native API, RoSaaS, resellers) goes through here.
 */
export async function onboardTenant(db: Db, deps: LifecycleDeps, caller: Caller, body: TenantCreateBody): Promise<TenantRecord> {
  const record = await createTenant(db, deps, caller, body);
  return sendCreationIfAutomatic(db, deps, record, caller.actor);
}
