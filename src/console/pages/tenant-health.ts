import { probeTenantNow, setTenantPaused } from '../../health/health.service.ts';
import type { ConsoleContext, ConsoleRouter } from '../router.ts';

const healthDeps = (context: ConsoleContext) => {
  const { clock, box, http, nodeId } = context.services;
  return { clock, box, http, nodeId };
};

/** A tenant's health controls: pause (maintenance) and resume probing, and probe now. */
export function registerTenantHealthActions(router: ConsoleRouter): void {
  const setPaused = (paused: boolean) => async (context: ConsoleContext) => {
    const ref = context.params.tenant ?? '';
    const record = await context.services.db
      .transaction()
      .execute((tx) => setTenantPaused(tx, healthDeps(context), context.caller, ref, paused, context.form.reason || undefined));
    return { redirect: `/console/tenants/${record.id}?tab=health`, notice: 'updated' as const };
  };
  router.action('/console/tenants/:tenant/health/pause', setPaused(true));
  router.action('/console/tenants/:tenant/health/resume', setPaused(false));
  router.action('/console/tenants/:tenant/health/probe', async (context) => {
    const ref = context.params.tenant ?? '';
    await probeTenantNow(context.services.db, healthDeps(context), context.caller, ref);
    return { redirect: `/console/tenants/${encodeURIComponent(ref)}?tab=health`, notice: 'done' };
  });
}
