import { listClients } from '../../access/clients.service.ts';
import { findPlanFeaturesOfPlans } from '../../catalogue/plan-features.repo.ts';
import { listPlans } from '../../catalogue/plans.service.ts';
import { findPricesOfPlans } from '../../catalogue/prices.repo.ts';
import { listSpecifications } from '../../catalogue/specifications.service.ts';
import type { ProductRow } from '../../db/schema.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { listPermissions, listRoles } from '../../people/roles.service.ts';
import { getVisibleProduct, listProducts } from '../../products/products.service.ts';
import { listResellers } from '../../resellers/resellers.service.ts';
import type { FormState } from '../form-fields.ts';
import { badge, csrfField, empty, pager, when } from '../layout.ts';
import type { ConsoleContext, ConsoleRouter, Rendered } from '../router.ts';
import { registerClientActions } from './product-clients.ts';
import { registerMarketplaceActions, renderMarketplaces } from './product-marketplaces.ts';
import { registerProductSettingsActions, renderSettings } from './product-settings.ts';
import { renderSignIn } from './product-sign-in.ts';

/**
 * One section of a product's page; a feature that lands later (promo codes) adds one entry. A
 * section with a form gets that form's state back when its action refused it (drawn again with
 * what was typed and the API's problems beside the fields).
 */
export interface ProductSection {
  /** The section's anchor (`/console/products/{id}#marketplaces`) and the key of its form state. */
  id: string;
  title: string;
  render(context: ConsoleContext, product: ProductRow, form?: FormState): Promise<SafeHtml>;
}

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

async function matrix(context: ConsoleContext, product: ProductRow): Promise<SafeHtml> {
  const { db } = context.services;
  const plans = (await listPlans(db, context.principal, product.id, { limit: 100 })).items;
  if (!plans.length) return empty('No plans yet.');
  const planIds = plans.map((plan) => plan.id);
  const [attachments, prices] = await Promise.all([
    findPlanFeaturesOfPlans(db, planIds),
    findPricesOfPlans(db, planIds, { onlyPublished: false }),
  ]);
  const features = [...new Map(attachments.map((row) => [row.feature_id, row.feature_display_name])).entries()];
  const cell = (planId: string, featureId: string) => {
    const row = attachments.find((candidate) => candidate.plan_id === planId && candidate.feature_id === featureId);
    if (!row) return html`<td>—</td>`;
    return html`<td>${row.limit_value === null ? 'unlimited' : `${row.limit_value}${row.unit ? ` ${row.unit}` : ''}`}${row.reset && row.reset !== 'never' ? html` <span class="muted">per ${row.reset}</span>` : ''}</td>`;
  };
  return html`<table><caption class="muted">Plans × features</caption><thead><tr><th scope="col">Feature</th>${plans.map(
    (plan) => html`<th scope="col">${plan.display_name} ${plan.published ? '' : badge('draft', 'neutral')}</th>`,
  )}</tr></thead><tbody>
<tr><th scope="row">Prices</th>${plans.map(
    (plan) =>
      html`<td>${prices.filter((price) => price.plan_id === plan.id).map((price) => html`${money(price.amount_minor, price.currency)} / ${price.cycle === 'custom' ? `${price.custom_days} days` : price.cycle}${price.published ? '' : ' (draft)'}<br>`)}</td>`,
  )}</tr>
${features.map(([featureId, name]) => html`<tr><th scope="row">${name}</th>${plans.map((plan) => cell(plan.id, featureId))}</tr>`)}</tbody></table>`;
}

async function specifications(context: ConsoleContext, product: ProductRow): Promise<SafeHtml> {
  const page = await listSpecifications(context.services.db, context.principal, product.id, { limit: 100 });
  if (!page.items.length) return empty('No specifications.');
  return html`<table><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Pattern</th><th scope="col">State</th></tr></thead><tbody>${page.items.map(
    (spec) =>
      html`<tr><td>${spec.display_name} <span class="mono muted">${spec.name}</span></td><td>${spec.type}</td><td>${spec.required ? 'yes' : 'no'}</td><td class="mono">${spec.pattern ?? '—'}</td><td>${spec.published ? 'published' : 'draft'}</td></tr>`,
  )}</tbody></table>`;
}

async function clients(context: ConsoleContext, product: ProductRow): Promise<SafeHtml> {
  const page = await listClients(context.services.db, context.caller, product.id, undefined, 100);
  const base = `/console/products/${product.id}/clients`;
  return html`${
    page.items.length
      ? html`<table><thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead><tbody>${page.items.map(
          (client) =>
            html`<tr><td>${client.name}</td><td class="mono">${client.client_id}</td><td>${when(client.last_used_at)}</td><td>${
              client.revoked_at
                ? badge('revoked', 'neutral')
                : html`<form class="inline" method="post" action="${base}/${client.id}/rotate">${csrfField(context.csrf)}<button type="submit" class="secondary">Rotate secret</button></form>
<details><summary>Revoke</summary><form class="row" method="post" action="${base}/${client.id}/revoke">${csrfField(context.csrf)}<div><label for="c-${client.id}">Type <span class="mono">${client.name}</span> to revoke</label><input id="c-${client.id}" name="confirm" autocomplete="off" required></div><button type="submit" class="danger">Revoke</button></form></details>`
            }</td></tr>`,
        )}</tbody></table>`
      : empty('No clients yet.')
  }<form class="row" method="post" action="${base}">${csrfField(context.csrf)}<div><label for="client-name">New client name</label><input id="client-name" name="name" required maxlength="200"></div><button type="submit">Create client</button></form>`;
}

async function access(context: ConsoleContext, product: ProductRow): Promise<SafeHtml> {
  const [permissions, roles] = await Promise.all([
    listPermissions(context.services.db, context.principal, product.id),
    listRoles(context.services.db, context.principal, product.id),
  ]);
  return html`<h3>Permissions</h3>${permissions.length ? html`<ul>${permissions.map((permission) => html`<li><span class="mono">${permission.name}</span> ${permission.description}</li>`)}</ul>` : empty('No permissions.')}
<h3>Roles</h3><ul>${roles.map((role) => html`<li><strong>${role.displayName}</strong> <span class="mono muted">${role.name}</span>: ${role.allPermissions ? 'every permission' : role.permissions.join(', ') || 'no permissions'}</li>`)}</ul>`;
}

async function resellers(context: ConsoleContext, product: ProductRow): Promise<SafeHtml> {
  const base = `/console/products/${product.id}`;
  const page = await listResellers(context.services.db, context.principal, context.query.resellers_cursor, 50, { productId: product.id });
  if (!page.items.length) return empty(context.query.resellers_cursor ? 'No more resellers.' : 'No resellers.');
  return html`<table><thead><tr><th scope="col">Name</th><th scope="col">Code</th><th scope="col">Tenant prefix</th><th scope="col">User name</th><th scope="col">Created</th><th scope="col">State</th></tr></thead><tbody>${page.items.map(
    (row) =>
      html`<tr><td>${row.name}</td><td class="mono">${row.code}</td><td class="mono">${row.code_prefix}</td><td class="mono">${row.username}</td><td>${when(row.created_at)}</td><td>${row.revoked_at ? badge('revoked', 'neutral') : badge('active', 'good')}</td></tr>`,
  )}</tbody></table>${pager(base, {}, page.nextCursor, { key: 'resellers_cursor', label: 'More resellers' })}`;
}

/** The sections of a product's page, in order. */
export const PRODUCT_SECTIONS: ProductSection[] = [
  { id: 'settings', title: 'Settings and warnings', render: renderSettings },
  { id: 'plans', title: 'Plans and features', render: matrix },
  { id: 'specifications', title: 'Specifications', render: specifications },
  { id: 'clients', title: 'Clients', render: clients },
  { id: 'access', title: 'Permissions and roles', render: access },
  { id: 'sign-in', title: 'Sign-in: OpenID Connect and SAML', render: renderSignIn },
  { id: 'marketplaces', title: 'Marketplaces', render: renderMarketplaces },
  { id: 'resellers', title: 'Resellers', render: resellers },
];

/**
 * A product's page: every section, in order. `forms` carries a refused form's state by section
 * id, and `status` the refusal's status (the API's: 400, 409, 412…).
 */
async function productPage(
  context: ConsoleContext,
  product: ProductRow,
  forms: Record<string, FormState> = {},
  status = 200,
): Promise<Rendered> {
  const sections = await Promise.all(
    PRODUCT_SECTIONS.map(
      async (section) =>
        html`<section id="${section.id}" aria-labelledby="${section.id}-title"><h2 id="${section.id}-title">${section.title}</h2>${await section.render(context, product, forms[section.id])}</section>`,
    ),
  );
  const body = html`<p><a href="/console/products">Products</a> › ${product.name}</p><h1>${product.display_name} <span class="muted mono">${product.name}</span></h1>
<p><a href="/console/tenants?product=${product.name}">Its tenants</a></p>${sections}`;
  return { title: product.display_name, section: 'products', body, status };
}

/** Products: the list, and each product's sections. */
export function registerProductPages(router: ConsoleRouter): void {
  router.page('/console/products', async (context) => {
    const page = await listProducts(context.services.db, context.principal, context.query.cursor, 50);
    const body = html`<h1>Products</h1>${
      page.items.length
        ? html`<table><thead><tr><th scope="col">Name</th><th scope="col">System name</th><th scope="col">Created</th></tr></thead><tbody>${page.items.map(
            (product) =>
              html`<tr><td><a href="/console/products/${product.id}">${product.display_name}</a></td><td class="mono">${product.name}</td><td>${when(product.created_at)}</td></tr>`,
          )}</tbody></table>${pager('/console/products', {}, page.nextCursor)}`
        : empty('No products yet. Create one with POST /v1/products.')
    }`;
    return { title: 'Products', section: 'products', body };
  });

  router.page('/console/products/:product', async (context) =>
    productPage(context, await getVisibleProduct(context.services.db, context.principal, context.params.product ?? '')),
  );
  registerClientActions(router);
  registerProductSettingsActions(router, productPage);
  registerMarketplaceActions(router, productPage);
}
