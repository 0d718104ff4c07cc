import type { RawBuilder } from 'kysely';
import type { Caller } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import type { StoredAnswer, WriteClaim } from '../http/idempotency.ts';
import { sendCreationIfAutomatic } from './lifecycle.service.ts';
import type { TenantRecord } from './tenants.repo.ts';
import type { TenantCreateBody } from './tenants.schemas.ts';
import { prepareTenant, writeTenant } from './tenants.service.ts';
import type { LifecycleDeps } from './transitions.ts';

/** An idempotency claim to make with the tenant's write, and the answer to store for the tenant written. */
export interface OnboardingClaim {
  claim: WriteClaim;
  answer: (record: TenantRecord) => StoredAnswer;
}

/**
 * Creates a tenant and, when its product says so (`provisioning.autoSendCreation`),
 * starts the creation step in the same transaction. Every channel that creates
 * tenants (native API, RoSaaS, resellers) goes through here. A tenant that stays in
 * `record_created` is one statement, without a transaction of its own; `null` means
 * `claim` was refused (another request holds the key: replay its answer).
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
  const provisioning = prepared.record.product_provisioning as { autoSendCreation?: boolean };
  if (!provisioning.autoSendCreation) {
    const claim =
      idempotency &&
      ((when: RawBuilder<boolean>, record: TenantRecord) => idempotency.claim.cte({ answer: idempotency.answer(record), when }));
    return writeTenant(db, prepared, claim, prepare);
  }
  const creation = async (tx: Db) => {
    const record = await writeTenant(tx, prepared, idempotency && ((when) => idempotency.claim.cte({ when })), prepare);
    if (!record) return null;
    // The answer is stored by the transition's own statement.
    return sendCreationIfAutomatic(
      tx,
      deps,
      record,
      caller.actor,
      idempotency && ((after) => [idempotency.claim.storeSql(idempotency.answer(after))]),
    );
  };
  return db.isTransaction ? creation(db) : db.transaction().execute(creation);
}
