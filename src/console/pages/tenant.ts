import { AppError } from '../../errors/app-error.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { groupUid } from '../../marketplaces/maestrano-format.ts';
import { takeAction } from '../../tenants/lifecycle.service.ts';
import type { TenantRecord } from '../../tenants/tenants.repo.ts';
import { getVisibleTenant, toTenantView } from '../../tenants/tenants.service.ts';
import { type Action, STABLE_STATUSES, type Status } from '../../tenants/workflow.ts';
import { findGroupOfTenant } from '../console.repo.ts';
import { badge, confirmForm, postButton, statusTone, when, withQuery } from '../layout.ts';
import { type ConsoleContext, type ConsoleRouter, requireConfirmation } from '../router.ts';
import { TENANT_TABS } from './tenant-tabs.ts';

/** The lifecycle actions an operator can press, with their labels; `delete` needs a confirmation naming the tenant. */
const ACTION_LABELS: Partial<Record<Action, string>> = {
  send_creation_request: 'Send creation request',
  activate: 'Activate',
  deactivate: 'Deactivate',
  retry: 'Retry failed step',
  undo: 'Undo failed step',
  delete: 'Delete',
};
const DESTRUCTIVE: readonly Action[] = ['delete'];

/** True while the tenant waits on its backend: the page then refreshes itself until it settles. */
export function isSettling(record: TenantRecord): boolean {
  return record.status !== 'failure' && !STABLE_STATUSES.includes(record.status as Status);
}

/** One tenant: badges, the actions its `actions` allow, and tabs (see {@link TENANT_TABS}). */
export function registerTenantPage(router: ConsoleRouter): void {
  router.page('/console/tenants/:tenant', async (context) => {
    const tenant = await getVisibleTenant(context.services.db, context.principal, context.params.tenant ?? '');
    const tab = TENANT_TABS.find((candidate) => candidate.id === context.query.tab) ?? TENANT_TABS[0];
    if (!tab) throw new Error('no tenant tabs');
    const tabs = html`<nav class="tabs" aria-label="Tenant"><ul>${TENANT_TABS.map(
      (candidate) =>
        html`<li><a href="${withQuery(`/console/tenants/${tenant.id}`, { tab: candidate.id })}"${candidate.id === tab.id ? html` aria-current="page"` : ''}>${candidate.label}</a></li>`,
    )}</ul></nav>`;
    const panel = html`${tabs}<section aria-label="${tab.label}">${await tab.render(context, tenant)}</section>`;
    const live = liveRegion(context, tenant, tab.id, panel, await marketplaceFact(context, tenant));
    const body = html`<p><a href="/console/tenants">Tenants</a> › ${tenant.name}</p>${live}`;
    return { title: `${tenant.display_name} (${tenant.name})`, section: 'tenants', body, fragment: live };
  });

  router.action('/console/tenants/:tenant/actions/:action', async (context) => {
    const action = context.params.action as Action;
    const ref = context.params.tenant ?? '';
    const { db, clock } = context.services;
    if (!Object.hasOwn(ACTION_LABELS, action)) {
      throw new AppError('request.invalid', { message: `Unknown action "${action}"`, parameter: 'action' });
    }
    if (DESTRUCTIVE.includes(action)) requireConfirmation(context, (await getVisibleTenant(db, context.principal, ref)).name);
    const record = await db
      .transaction()
      .execute((tx) => takeAction(tx, { clock }, context.caller, ref, action, context.form.reason || 'from the console'));
    return { redirect: `/console/tenants/${record.id}`, notice: 'requested' };
  });
}

/**
 * The part of the tenant page that changes while a step runs: the badges, the actions and
 * the current tab. While the tenant is settling it asks for itself again every 2 seconds
 * (htmx); once settled the answer has no trigger, and the polling stops.
 */
function liveRegion(context: ConsoleContext, tenant: TenantRecord, tabId: string, panel: SafeHtml, facts: SafeHtml): SafeHtml {
  const view = toTenantView(tenant, context.principal);
  const settling = isSettling(tenant);
  // The poll asks for the same view (the tab's filters and page), without the one-off notice.
  const self = withQuery(`/console/tenants/${tenant.id}`, { ...context.query, notice: undefined, tab: tabId });
  const actions = view.actions.filter((action) => ACTION_LABELS[action] && !DESTRUCTIVE.includes(action));
  const destructive = view.actions.filter((action) => DESTRUCTIVE.includes(action));
  const health = view.health
    ? badge(`health: ${view.health.state}`, view.health.state === 'healthy' ? 'good' : view.health.state === 'unknown' ? 'neutral' : 'bad')
    : '';
  const poll = settling
    ? html` hx-get="${self}" hx-trigger="every 2s" hx-select="#tenant-live" hx-target="#tenant-live" hx-swap="outerHTML"`
    : '';
  return html`<div id="tenant-live" class="live"${poll} aria-live="polite"${settling ? html` aria-busy="true"` : ''}>
<h1>${tenant.display_name} <span class="muted mono">${tenant.name}</span></h1>
<p>${badge(tenant.status, statusTone(tenant.status))} ${tenant.failed_step ? badge(`${tenant.failed_step} failed`, 'bad') : ''} ${health}
${settling ? html`<span class="spinner muted">Waiting for the backend</span>` : ''}</p>
<dl class="facts"><dt>Product</dt><dd><a href="/console/products/${tenant.product_id}">${tenant.product_name}</a></dd><dt>Plan</dt><dd>${tenant.plan_price_name ?? '—'}</dd><dt>Id</dt><dd class="mono">${tenant.id}</dd><dt>Events</dt><dd><a href="/console/events?tenant=${tenant.id}">Its events</a></dd>${facts}</dl>
<div class="actions">${actions.map((action) =>
    postButton(`/console/tenants/${tenant.id}/actions/${action}`, ACTION_LABELS[action] ?? action, context.csrf, {
      secondary: action === 'undo',
    }),
  )}</div>
${destructive.map((action) => confirmForm(`/console/tenants/${tenant.id}/actions/${action}`, tenant.name, ACTION_LABELS[action] ?? action, context.csrf))}
${panel}</div>`;
}

/** For a tenant that is a marketplace group: which group of which marketplace (a link to the product's marketplaces). */
async function marketplaceFact(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const group = await findGroupOfTenant(context.services.db, tenant.id);
  if (!group) return html``;
  return html`<dt>Marketplace</dt><dd>group <span class="mono">${groupUid(group.number)}</span> of <a href="/console/products/${tenant.product_id}#marketplace-${group.marketplace_id}">${group.marketplace_name}</a>${group.deleted_at ? html` ${badge(`cancelled ${when(group.deleted_at)}`, 'neutral')}` : ''}</dd>`;
}
