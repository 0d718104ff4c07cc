import { readPublishedPlans } from '../../catalogue/catalogue.read.ts';
import { cancelSubscription, getSubscription, toSubscriptionView, withdrawCancellation } from '../../commerce/subscriptions.service.ts';
import { AppError } from '../../errors/app-error.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { CHANGE_TIMINGS, type ChangeTiming } from '../../plan-changes/change-rules.ts';
import { listChanges, previewChange, requestChange } from '../../plan-changes/plan-changes.service.ts';
import { changeView } from '../../plan-changes/plan-changes.view.ts';
import type { TenantRecord } from '../../tenants/tenants.repo.ts';
import { getVisibleTenant } from '../../tenants/tenants.service.ts';
import { badge, confirmForm, csrfField, empty, postButton, when } from '../layout.ts';
import { type ConsoleContext, type ConsoleRouter, requireConfirmation } from '../router.ts';
import { money } from './money.ts';

/** A change's statuses that wait on the product's backend: the tab refreshes itself while one is showing. */
const WAITING = ['calling', 'awaiting_report'];

/** The subscription tab: period, trial, next renewal, the latest plan change, and what the operator may do. */
export async function renderSubscription(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const { db } = context.services;
  let row: Awaited<ReturnType<typeof getSubscription>>;
  try {
    row = await getSubscription(db, context.principal, tenant.id);
  } catch (error) {
    if (error instanceof AppError && error.code === 'subscription.not_found') return empty('This tenant has no subscription.');
    throw error;
  }
  const view = toSubscriptionView(row, context.principal);
  const latest = (await listChanges(db, context.principal, tenant.id, undefined, 1)).items[0];
  const change = latest ? changeView(latest) : undefined;
  const base = `/console/tenants/${tenant.id}/subscription`;
  const facts = html`<dl class="facts"><dt>Status</dt><dd>${badge(view.status, view.status === 'active' || view.status === 'trialing' ? 'good' : 'warn')}</dd>
<dt>Price</dt><dd>${view.priceName ?? view.priceId} · ${money(view.amount, view.currency)} per ${view.cycle}</dd>
<dt>Current period</dt><dd>${view.currentPeriod ? html`${when(view.currentPeriod.start)} → ${when(view.currentPeriod.end)}` : '—'}</dd>
<dt>Trial ends</dt><dd>${when(view.trialEndAt)}</dd>
<dt>Next renewal</dt><dd>${view.cancelAt ? html`none: ends ${when(view.cancelAt)}` : view.autoRenew ? when(view.currentPeriod?.end ?? null) : 'auto-renewal off'}</dd>
<dt>Calendar</dt><dd>${view.timeZone}</dd></dl>`;
  const live = ['active', 'trialing', 'past_due'].includes(view.status) || view.actions.includes('cancel');
  const controls = html`<div class="actions">${
    view.actions.includes('withdraw_cancel') ? postButton(`${base}/resume`, 'Resume (withdraw the cancellation)', context.csrf) : ''
  }</div>
${view.actions.includes('cancel') ? html`<h2>Cancel at the period's end</h2>${confirmForm(`${base}/cancel`, tenant.name, 'Cancel at period end', context.csrf)}` : ''}
${view.actions.includes('cancel_now') ? html`<h2>Cancel now</h2>${confirmForm(`${base}/cancel-now`, tenant.name, 'Cancel now', context.csrf)}` : ''}`;
  const changing = change && ['scheduled', ...WAITING].includes(change.status);
  return html`${facts}${pendingChange(tenant, change)}${controls}${
    live && !changing ? await changeForms(context, tenant, view.priceId, base) : ''
  }`;
}

// The latest plan change; while it waits on the backend it asks for itself again every 2 seconds.
function pendingChange(tenant: TenantRecord, change: ReturnType<typeof changeView> | undefined): SafeHtml {
  if (!change) return html`<div id="subscription-change"><h2>Plan changes</h2>${empty('No plan change yet.')}</div>`;
  const waiting = WAITING.includes(change.status);
  const self = `/console/tenants/${tenant.id}?tab=subscription`;
  const poll = waiting
    ? html` hx-get="${self}" hx-trigger="every 2s" hx-select="#subscription-change" hx-target="#subscription-change" hx-swap="outerHTML"`
    : '';
  const tone = change.status === 'applied' ? 'good' : change.status === 'failed' ? 'bad' : 'warn';
  return html`<div id="subscription-change" aria-live="polite"${poll}${waiting ? html` aria-busy="true"` : ''}><h2>Latest plan change</h2>
<p>${change.kind} ${badge(change.status, tone)} ${waiting ? html`<span class="spinner muted">Waiting for the backend's confirmation</span>` : ''}</p>
<dl class="facts"><dt>Timing</dt><dd>${change.timing === 'now' ? 'now' : 'at the period end'}, effective ${when(change.effectiveAt)}</dd>
<dt>Report due</dt><dd>${when(change.reportDueAt)}</dd><dt>Resolved</dt><dd>${when(change.resolvedAt)}</dd>
${change.failureReason?.reason ? html`<dt>Failure</dt><dd>${change.failureReason.reason}</dd>` : ''}</dl></div>`;
}

async function changeForms(context: ConsoleContext, tenant: TenantRecord, currentPriceId: string, base: string): Promise<SafeHtml> {
  const plans = await readPublishedPlans(context.services.db, tenant.product_id);
  const options = plans.flatMap((plan) =>
    plan.prices
      .filter((price) => price.id !== currentPriceId)
      .map(
        (price) =>
          html`<option value="${price.name}">${plan.displayName} · ${price.name} (${money(price.amount, price.currency)} per ${price.cycle})</option>`,
      ),
  );
  return html`<h2>Change plan</h2>${
    options.length
      ? html`<form class="row" method="post" action="${base}/preview">${csrfField(context.csrf)}
<div><label for="change-price">New price</label><select id="change-price" name="price" required>${options}</select></div>
<div><label for="change-timing">When</label><select id="change-timing" name="timing"><option value="">the default for this change</option><option value="now">now</option><option value="period_end">at the period end</option></select></div>
<button type="submit">Preview the change</button></form>`
      : empty('No other published price to change to.')
  }<h2>Reset usage windows</h2>${confirmForm(`${base}/reset`, tenant.name, 'Reset', context.csrf)}`;
}

function timingOf(context: ConsoleContext): ChangeTiming | undefined {
  const timing = context.form.timing || undefined;
  if (timing === undefined) return undefined;
  if (!(CHANGE_TIMINGS as readonly string[]).includes(timing)) {
    throw new AppError('request.invalid', { message: 'timing must be now or period_end', parameter: 'timing' });
  }
  return timing as ChangeTiming;
}

function priceOf(context: ConsoleContext): string {
  const price = context.form.price?.trim();
  if (!price) throw new AppError('request.invalid', { message: 'Choose a price', parameter: 'price' });
  return price;
}

/** The subscription's actions: preview and request a plan change, reset, cancel, resume — the services of /v1. */
export function registerTenantSubscriptionActions(router: ConsoleRouter): void {
  const tab = (id: string) => `/console/tenants/${id}?tab=subscription`;
  router.action('/console/tenants/:tenant/subscription/preview', async (context) => {
    const { db, clock } = context.services;
    const tenant = await getVisibleTenant(db, context.principal, context.params.tenant ?? '');
    const body = { price: priceOf(context), timing: timingOf(context) };
    const preview = await previewChange(db, { clock }, context.caller, tenant.id, body);
    const lines = preview.lines.length
      ? html`<table><caption>Proration</caption><thead><tr><th scope="col">Line</th><th scope="col">Days</th><th scope="col">From</th><th scope="col">To</th><th scope="col" class="num">Amount</th></tr></thead><tbody>${preview.lines.map(
          (line) =>
            html`<tr><td>${line.kind}</td><td>${line.days} of ${line.periodDays}</td><td>${when(line.start)}</td><td>${when(line.end)}</td><td class="num">${money(line.amount, preview.currency)}</td></tr>`,
        )}</tbody><tfoot><tr><th scope="row" colspan="4">Total</th><td class="num">${money(preview.total, preview.currency)}</td></tr></tfoot></table>`
      : empty('No proration: the new price starts with the next period.');
    const page = html`<p><a href="/console/tenants">Tenants</a> › <a href="${tab(tenant.id)}">${tenant.name}</a></p>
<h1>Change ${tenant.name}'s plan</h1><dl class="facts"><dt>Kind</dt><dd>${preview.kind}</dd><dt>When</dt><dd>${preview.timing === 'now' ? 'now' : 'at the period end'} (${when(preview.effectiveAt)})</dd></dl>
${lines}<p class="muted">The change takes effect once the product's backend confirms it.</p>
<form class="row" method="post" action="/console/tenants/${tenant.id}/subscription/change">${csrfField(context.csrf)}
<input type="hidden" name="price" value="${body.price}"><input type="hidden" name="timing" value="${preview.timing}">
<button type="submit">Ask the backend for this change</button></form><p><a href="${tab(tenant.id)}">Back without changing</a></p>`;
    return { title: `Change ${tenant.name}'s plan`, section: 'tenants', body: page };
  });
  router.action('/console/tenants/:tenant/subscription/change', async (context) => {
    const { db, clock } = context.services;
    const body = { price: priceOf(context), timing: timingOf(context), reason: 'from the console' };
    const change = await db.transaction().execute((tx) => requestChange(tx, { clock }, context.caller, context.params.tenant ?? '', body));
    return { redirect: tab(change.tenant_id), notice: 'requested' };
  });
  router.action('/console/tenants/:tenant/subscription/reset', async (context) => {
    const { db, clock } = context.services;
    requireConfirmation(context, (await getVisibleTenant(db, context.principal, context.params.tenant ?? '')).name);
    const body = { reset: true, reason: 'from the console' };
    const change = await db.transaction().execute((tx) => requestChange(tx, { clock }, context.caller, context.params.tenant ?? '', body));
    return { redirect: tab(change.tenant_id), notice: 'requested' };
  });
  const cancel = (at: 'period_end' | 'now') => async (context: ConsoleContext) => {
    const { db, clock } = context.services;
    const tenant = await getVisibleTenant(db, context.principal, context.params.tenant ?? '');
    requireConfirmation(context, tenant.name);
    await db.transaction().execute((tx) => cancelSubscription(tx, { clock }, context.caller, tenant.id, at));
    return { redirect: tab(tenant.id), notice: 'done' as const };
  };
  router.action('/console/tenants/:tenant/subscription/cancel', cancel('period_end'));
  router.action('/console/tenants/:tenant/subscription/cancel-now', cancel('now'));
  router.action('/console/tenants/:tenant/subscription/resume', async (context) => {
    const { db, clock } = context.services;
    const tenant = await getVisibleTenant(db, context.principal, context.params.tenant ?? '');
    await db.transaction().execute((tx) => withdrawCancellation(tx, { clock }, context.caller, tenant.id));
    return { redirect: tab(tenant.id), notice: 'done' };
  });
}
