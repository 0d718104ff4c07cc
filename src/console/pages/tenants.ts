import { HEALTH_STATES } from '../../health/health.rules.ts';
import { html } from '../../http/html.ts';
import { isUuid } from '../../platform/ids.ts';
import { getVisibleProduct, listProducts } from '../../products/products.service.ts';
import { listTenants } from '../../tenants/tenants.service.ts';
import { STATUSES } from '../../tenants/workflow.ts';
import { badge, empty, pager, statusTone, when } from '../layout.ts';
import type { ConsoleContext, ConsoleRouter } from '../router.ts';
import { registerTenantPage } from './tenant.ts';

const PAGE_SIZE = 50;

/** Filters of the tenant list: a new one is a field here, an `<select>` below, and a filter in `listTenants`. */
function filtersOf(context: ConsoleContext) {
  const { product, status, health, q, plan } = context.query;
  return {
    product: product || undefined,
    plan: plan && isUuid(plan) ? plan : undefined,
    status: status && (STATUSES as readonly string[]).includes(status) ? status : undefined,
    health: health && (HEALTH_STATES as readonly string[]).includes(health) ? health : undefined,
    q: q ? q.toLowerCase().slice(0, 100) : undefined,
  };
}

async function pricesOf(context: ConsoleContext, productRef: string) {
  const product = await getVisibleProduct(context.services.db, context.principal, productRef);
  return context.services.db
    .selectFrom('plan_prices')
    .select(['id', 'name'])
    .where('product_id', '=', product.id)
    .orderBy('name')
    .limit(200)
    .execute();
}

/** Tenants: filters, a name-prefix search that updates as you type (htmx), cursor pages; then each tenant. */
export function registerTenantPages(router: ConsoleRouter): void {
  router.page('/console/tenants', async (context) => {
    const filters = filtersOf(context);
    const { db } = context.services;
    const [page, products, prices] = await Promise.all([
      listTenants(db, context.principal, { ...filters, planPriceId: filters.plan, cursor: context.query.cursor, limit: PAGE_SIZE }),
      listProducts(db, context.principal, undefined, 200),
      // The plan filter offers the chosen product's prices (a plan is sold through its prices).
      filters.product ? pricesOf(context, filters.product) : Promise.resolve([]),
    ]);
    const results = html`<div id="tenant-results">${
      page.items.length
        ? html`<table><caption class="muted">Tenants${filters.q ? html` whose name starts with “${filters.q}”` : ''}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Display name</th><th scope="col">Product</th><th scope="col">Status</th><th scope="col">Health</th><th scope="col">Plan</th><th scope="col">Created</th></tr></thead>
<tbody>${page.items.map(
            (tenant) =>
              html`<tr><td><a href="/console/tenants/${tenant.id}">${tenant.name}</a></td><td>${tenant.display_name}</td><td>${tenant.product_name}</td>
<td>${badge(tenant.status, statusTone(tenant.status))}${tenant.failed_step ? html` <span class="muted">(${tenant.failed_step} failed)</span>` : ''}</td>
<td>${tenant.health_state ?? '—'}</td><td>${tenant.plan_price_name ?? '—'}</td><td>${when(tenant.created_at)}</td></tr>`,
          )}</tbody></table>${pager('/console/tenants', filters, page.nextCursor)}`
        : empty('No tenants match.')
    }</div>`;
    const option = (value: string, current: string | undefined, label = value) =>
      html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
    const body = html`<h1>Tenants</h1>
<form class="row" method="get" action="/console/tenants" role="search" hx-get="/console/tenants" hx-target="#tenant-results" hx-select="#tenant-results" hx-swap="outerHTML" hx-push-url="true" hx-trigger="input changed delay:300ms from:#q, change">
<div><label for="q">Name starts with</label><input id="q" name="q" type="search" value="${filters.q ?? ''}" autocomplete="off"></div>
<div><label for="product">Product</label><select id="product" name="product">${option('', filters.product, 'All products')}${products.items.map((product) => option(product.name, filters.product, product.display_name))}</select></div>
<div><label for="status">Status</label><select id="status" name="status">${option('', filters.status, 'Any status')}${STATUSES.map((status) => option(status, filters.status))}</select></div>
${prices.length ? html`<div><label for="plan">Plan</label><select id="plan" name="plan">${option('', filters.plan, 'Any plan')}${prices.map((price) => option(price.id, filters.plan, price.name))}</select></div>` : ''}
<div><label for="health">Health</label><select id="health" name="health">${option('', filters.health, 'Any health')}${HEALTH_STATES.map((state) => option(state, filters.health))}</select></div>
<button type="submit">Filter</button></form>${results}`;
    return { title: 'Tenants', section: 'tenants', body, fragment: results };
  });
  registerTenantPage(router);
}
