import { html, type SafeHtml } from '../../http/html.ts';
import type { TenantRecord } from '../../tenants/tenants.repo.ts';
import { computeEntitlements } from '../../usage/entitlements.service.ts';
import { loadPlanFeatures } from '../../usage/usage-context.ts';
import { badge, empty, when } from '../layout.ts';
import type { ConsoleContext } from '../router.ts';

const WIDTH = 400;
const HEIGHT = 18;

/**
 * One feature's bar, drawn on the server as SVG (the CSP allows no inline style): the used
 * share of the limit, a tick at each threshold, and the numbers as text beside it.
 */
export function usageBar(input: { feature: string; used: number; limit: number; thresholds: readonly number[] }): SafeHtml {
  const share = input.limit > 0 ? Math.min(1, input.used / input.limit) : 1;
  const reached = input.thresholds.filter((threshold) => input.used * 100 >= input.limit * threshold);
  const fill = input.used > input.limit ? '#b00020' : reached.length ? '#8a5300' : '#1a7f37';
  const ticks = input.thresholds
    .filter((threshold) => threshold > 0 && threshold <= 100)
    .map((threshold) => {
      const x = ((threshold / 100) * (WIDTH - 2) + 1).toFixed(1);
      return html`<line x1="${x}" y1="0" x2="${x}" y2="${HEIGHT}" stroke="#222" stroke-width="2"><title>${threshold} %</title></line>`;
    });
  return html`<svg role="img" aria-label="${input.feature}: ${input.used} of ${input.limit}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#e8e8ee"></rect><rect x="0" y="0" width="${(share * WIDTH).toFixed(1)}" height="${HEIGHT}" fill="${fill}"></rect>${ticks}</svg>`;
}

/** The usage tab: per feature of the plan, used of limit in the current window, with its thresholds. */
export async function renderUsage(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const { db, clock } = context.services;
  // The tenant is the caller's (the page resolved it with the principal), so computing by id scopes nothing away.
  const entitlements = await computeEntitlements(db, clock, tenant.id);
  const plan = entitlements?.view.plan;
  if (!entitlements || !plan) return empty('No live subscription: nothing is metered.');
  const metered = [...((await loadPlanFeatures(db, [plan.id])).get(plan.id)?.values() ?? [])];
  const thresholds = new Map(metered.map((feature) => [feature.featureName, feature.thresholds]));
  if (!entitlements.view.features.length) return empty(`The plan ${plan.name} has no features.`);
  return html`<p>Plan <strong>${plan.name}</strong>, as of ${when(entitlements.now)}.</p>
<table><thead><tr><th scope="col">Feature</th><th scope="col">Used</th><th scope="col">Window</th><th scope="col">Thresholds</th></tr></thead><tbody>${entitlements.view.features.map(
    (feature) => {
      const marks = thresholds.get(feature.feature) ?? [];
      const used =
        feature.type !== 'number'
          ? badge(feature.included ? 'included' : 'not included', feature.included ? 'good' : 'neutral')
          : feature.limit === null
            ? html`${feature.used} (unlimited)`
            : html`${usageBar({ feature: feature.feature, used: feature.used, limit: feature.limit, thresholds: marks })}<br>${feature.used} of ${feature.limit} (${feature.enforcement} limit)${
                feature.overLimit ? html` ${badge('over the limit', 'bad')}` : ''
              }`;
      return html`<tr><td>${feature.feature}</td><td>${used}</td><td>${feature.windowStart ? html`${when(feature.windowStart)} → ${when(feature.windowEnd)}` : feature.reset}</td><td>${
        marks.length ? marks.map((mark) => `${mark} %`).join(', ') : '—'
      }</td></tr>`;
    },
  )}</tbody></table>`;
}
