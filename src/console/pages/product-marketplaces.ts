import type { ProductRow } from '../../db/schema.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { MAESTRANO_ROLES, MarketplaceCreate, type MarketplaceCreateBody } from '../../marketplaces/marketplaces.schemas.ts';
import { createMarketplace, DEFAULT_ROLE_MAPPING, listMarketplaces } from '../../marketplaces/marketplaces.service.ts';
import { getVisibleProduct } from '../../products/products.service.ts';
import { assertApiValid, bodyOfForm, type FieldSpec, type FormState, field, formProblemsOf, problemSummary } from '../form-fields.ts';
import { csrfField, empty, when } from '../layout.ts';
import type { ConsoleContext, ConsoleRouter, Rendered } from '../router.ts';

const FORM = 'marketplace';
/** The product page's section this form is in (its state comes back under this key when refused). */
const SECTION = 'marketplaces';

/** The create form's fields as `POST /v1/products/{product}/marketplaces` takes them; an empty role keeps the default. */
const FIELDS: Record<string, FieldSpec> = {
  marketplace: 'exact',
  nid: 'exact',
  environment: 'exact',
  'app.host': 'exact',
  'sso.idm': 'text',
  'sso.init_path': 'exact',
  'sso.consume_path': 'exact',
  'webhooks.account.group_path': 'exact',
  'webhooks.account.group_user_path': 'exact',
  ...Object.fromEntries(MAESTRANO_ROLES.map((role) => [`roles.${role}`, 'text'])),
};

const text = (value: unknown) => (typeof value === 'string' ? value : '—');

/**
 * A product's marketplaces (`listMarketplaces`, what `GET /v1/products/{product}/marketplaces`
 * serves: never a secret) and the form that creates one.
 */
export async function renderMarketplaces(context: ConsoleContext, product: ProductRow, state?: FormState): Promise<SafeHtml> {
  const marketplaces = await listMarketplaces(context.services.db, context.principal, product.id);
  const values = state?.values ?? {};
  const input = (name: string, label: string, options: Parameters<typeof field>[5] = {}) =>
    field(FORM, name, label, values[name], state, options);
  return html`${
    marketplaces.length
      ? html`<table><thead><tr><th scope="col">Marketplace</th><th scope="col">NID</th><th scope="col">Environment</th><th scope="col">App host</th><th scope="col">Paths</th><th scope="col">API id</th><th scope="col">Created</th></tr></thead><tbody>${marketplaces.map(
          (row) => {
            const account = (row.webhooks.account ?? {}) as Record<string, unknown>;
            return html`<tr id="marketplace-${row.id}"><td>${row.marketplace}</td><td class="mono">${row.nid}</td><td class="mono">${row.environment}</td><td class="mono">${text(row.app.host)}</td>
<td><dl class="facts"><dt>SSO init</dt><dd class="mono">${text(row.sso.init_path)}</dd><dt>SSO consume</dt><dd class="mono">${text(row.sso.consume_path)}</dd><dt>Group notices</dt><dd class="mono">${text(account.group_path)}</dd><dt>Member notices</dt><dd class="mono">${text(account.group_user_path)}</dd></dl></td>
<td class="mono">${row.apiId}</td><td>${when(row.createdAt)}</td></tr>`;
          },
        )}</tbody></table>`
      : empty('No marketplaces: the product is not sold through one.')
  }<details${state ? html` open` : ''}><summary>Add a marketplace</summary>
<form id="${FORM}-form" method="post" action="/console/products/${product.id}/marketplaces" novalidate>${csrfField(context.csrf)}
${problemSummary(state, Object.keys(FIELDS))}
<fieldset><legend>Marketplace</legend>${input('marketplace', 'Name (maestrano, some-telco)', { required: true, maxlength: 63 })}
${input('nid', 'The app’s NID on it', { required: true, maxlength: 200 })}
${input('environment', 'Environment (its first marketplace makes its configuration credentials)', { required: true, maxlength: 100 })}</fieldset>
<fieldset><legend>The app</legend>${input('app.host', 'App host (notices go to it)', { type: 'url', required: true, maxlength: 500 })}
${input('sso.idm', 'SAML consumer host (empty: the app host)', { type: 'url', maxlength: 500 })}
${input('sso.init_path', 'SSO init path', { required: true, maxlength: 500 })}
${input('sso.consume_path', 'SSO consume path', { required: true, maxlength: 500 })}
${input('webhooks.account.group_path', 'Group notice path (:id)', { required: true, maxlength: 500 })}
${input('webhooks.account.group_user_path', 'Member notice path (:group_id, :id)', { required: true, maxlength: 500 })}</fieldset>
<fieldset><legend>Roles <span class="muted">(Maestrano role → the product's role; empty: the default)</span></legend>${MAESTRANO_ROLES.map(
    (role) => input(`roles.${role}`, role, { placeholder: DEFAULT_ROLE_MAPPING[role], maxlength: 100 }),
  )}</fieldset>
<button type="submit">Create the marketplace</button></form></details>`;
}

/**
 * Creating a marketplace: the form becomes the body of `POST /v1/products/{product}/marketplaces`,
 * checked by that route's validator, created by its service (audited, the operator as actor). The
 * API key and a new environment's credentials are shown once, on the answer's page only.
 */
export function registerMarketplaceActions(
  router: ConsoleRouter,
  page: (context: ConsoleContext, product: ProductRow, forms: Record<string, FormState>, status: number) => Promise<Rendered>,
): void {
  router.action('/console/products/:product/marketplaces', async (context) => {
    const { db, box, clock } = context.services;
    const ref = context.params.product ?? '';
    const body = bodyOfForm(context.form, FIELDS) as MarketplaceCreateBody;
    try {
      assertApiValid(MarketplaceCreate, body);
      const created = await db.transaction().execute((tx) => createMarketplace(tx, { box, clock }, context.caller, ref, body));
      return shownOnce(created);
    } catch (error) {
      const problems = formProblemsOf(error);
      if (!problems) throw error;
      const product = await getVisibleProduct(db, context.principal, ref);
      return page(context, product, { [SECTION]: { values: context.form, problems } }, (error as { status: number }).status);
    }
  });
}

function shownOnce(created: Awaited<ReturnType<typeof createMarketplace>>): Rendered {
  const environment = created.environmentCredentials;
  return {
    title: 'Marketplace created',
    section: 'products',
    body: html`<h1>Marketplace ${created.marketplace} created</h1>
<div class="secret"><p>The app’s credentials for the account API (HTTP Basic <span class="mono">api.id:api.key</span>), shown once here — store them now:</p>
<dl class="facts"><dt>API id</dt><dd class="mono">${created.apiId}</dd><dt>API key</dt><dd class="mono">${created.apiKey}</dd></dl>
${
  environment
    ? html`<p>This created the environment <span class="mono">${created.environment}</span>. Its configuration credentials (for <span class="mono">GET /api/config/v1/marketplaces</span>), shown only now:</p>
<dl class="facts"><dt>Key</dt><dd class="mono">${environment.key}</dd><dt>Secret</dt><dd class="mono">${environment.secret}</dd></dl>`
    : html`<p>The environment <span class="mono">${created.environment}</span> existed already: its configuration credentials are unchanged.</p>`
}</div>
<p><a href="/console/products/${created.product.id}">Back to the product</a></p>`,
  };
}
