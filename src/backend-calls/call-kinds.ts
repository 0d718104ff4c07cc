import { UNAVAILABLE_NOTICE } from '../health/health.calls.ts';
import { MARKETPLACE_CALL_KINDS } from '../marketplaces/marketplace.calls.ts';
import { PLAN_CHANGE_CALL_KINDS } from '../plan-changes/plan-changes.calls.ts';
import { LIFECYCLE_CALL_KINDS } from '../tenants/lifecycle.calls.ts';
import type { CallKind } from './call-kind.ts';

/**
 * Every kind of call Landlord makes to a product's backend, by name. A new kind is one
 * entry here (its URL, body, settlement and deadline); the job, ordering, idempotency,
 * retries and timeline are the same for all (`call-backend.jobs.ts`).
 */
export function callKinds(): ReadonlyMap<string, CallKind> {
  const kinds: CallKind[] = [...LIFECYCLE_CALL_KINDS, UNAVAILABLE_NOTICE, ...PLAN_CHANGE_CALL_KINDS, ...MARKETPLACE_CALL_KINDS];
  const byName = new Map<string, CallKind>();
  for (const kind of kinds) {
    if (byName.has(kind.name)) throw new Error(`two call kinds are named ${kind.name}`);
    byName.set(kind.name, kind);
  }
  return byName;
}
