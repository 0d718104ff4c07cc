import type { ProductRow } from '../../db/schema.ts';
import { AppError } from '../../errors/app-error.ts';
import { etagOf } from '../../http/etag.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import {
  DEFAULT_HEALTH_CHECK,
  DEFAULT_PROVISIONING,
  type HealthCheckSettings,
  ProductUpdate,
  type ProductUpdateBody,
  WEBHOOK_EVENTS,
} from '../../products/products.schemas.ts';
import { getVisibleProduct, productWarnings, toProductView, updateProductSettings } from '../../products/products.service.ts';
import { assertApiValid, bodyOfForm, type FieldSpec, type FormState, field, formProblemsOf, problemSummary } from '../form-fields.ts';
import { badge, csrfField } from '../layout.ts';
import type { ConsoleContext, ConsoleRouter, Rendered } from '../router.ts';

/** The prefix of the form's field ids, and the product page's section it is in (its state comes back under this key). */
const FORM = 'settings';

const HEALTH_NUMBERS = [
  ['intervalSeconds', 'Probe every (seconds)'],
  ['timeoutSeconds', 'Probe timeout (seconds)'],
  ['failureThreshold', 'Failures before unhealthy'],
  ['recheckSeconds', 'Recheck after a failure (seconds)'],
  ['unavailableRecheckSeconds', 'Recheck while unavailable (seconds)'],
] as const;
const PROVISIONING_NUMBERS = [
  ['callbackTimeoutSeconds', 'Report deadline (seconds)'],
  ['requestTimeoutSeconds', 'Call timeout (seconds)'],
  ['maxAttempts', 'Attempts per call'],
] as const;

/**
 * The settings form's fields as `PATCH /v1/products/{product}` takes them. An emptied URL
 * clears it (`null`); an empty API key keeps the current one; every other field is sent as it
 * stands, so saving an untouched form changes nothing but the version.
 */
const FIELDS: Record<string, FieldSpec> = {
  displayName: 'exact',
  apiKey: 'text',
  signInUrl: 'nullable',
  ...Object.fromEntries(WEBHOOK_EVENTS.map((event) => [`webhooks.${event}`, 'nullable'])),
  'healthCheck.url': 'nullable',
  ...Object.fromEntries(HEALTH_NUMBERS.map(([name]) => [`healthCheck.${name}`, 'integer'])),
  'provisioning.mode': 'text',
  'provisioning.autoSendCreation': 'boolean',
  ...Object.fromEntries(PROVISIONING_NUMBERS.map(([name]) => [`provisioning.${name}`, 'integer'])),
};

/** The form's values for the product as it is now (the API key is never put into the page). */
function currentValues(product: ProductRow): Record<string, string | undefined> {
  // Over the defaults, so a row written before a setting existed shows the value it acts with.
  const health: HealthCheckSettings = { ...DEFAULT_HEALTH_CHECK, ...(product.health_check as Partial<HealthCheckSettings>) };
  const provisioning: Record<string, unknown> = { ...DEFAULT_PROVISIONING, ...(product.provisioning as object) };
  return {
    displayName: product.display_name,
    signInUrl: product.sign_in_url ?? '',
    ...Object.fromEntries(WEBHOOK_EVENTS.map((event) => [`webhooks.${event}`, product.webhooks[event] ?? ''])),
    'healthCheck.url': health.url ?? '',
    ...Object.fromEntries(HEALTH_NUMBERS.map(([name]) => [`healthCheck.${name}`, String(health[name])])),
    'provisioning.mode': String(provisioning.mode),
    'provisioning.autoSendCreation': String(provisioning.autoSendCreation),
    ...Object.fromEntries(PROVISIONING_NUMBERS.map(([name]) => [`provisioning.${name}`, String(provisioning[name])])),
  };
}

/** The settings section: the API's warnings, then the settings as a form (values as typed and problems when refused). */
export async function renderSettings(context: ConsoleContext, product: ProductRow, state?: FormState): Promise<SafeHtml> {
  const warnings = await productWarnings(context.services.db, product);
  const view = toProductView(product, context.services.box);
  const values = state?.values ?? currentValues(product);
  const input = (name: string, label: string, options: Parameters<typeof field>[5] = {}) =>
    field(FORM, name, label, values[name], state, options);
  const url = { type: 'url' as const, maxlength: 2000 };
  const number = { inputmode: 'numeric' as const, required: true };
  return html`${warnings.length ? html`<div class="warning" role="note"><p><strong>${warnings.length} warnings</strong></p><ul>${warnings.map((warning) => html`<li>${warning.message} <span class="muted mono">${warning.parameter}</span></li>`)}</ul></div>` : html`<p>${badge('ready', 'good')} No warnings.</p>`}
<form id="${FORM}-form" method="post" action="/console/products/${product.id}/settings" novalidate>${csrfField(context.csrf)}
<input type="hidden" name="version" value="${state?.values.version ?? etagOf(product)}">
${problemSummary(state, Object.keys(FIELDS))}
<fieldset><legend>Product</legend>${input('displayName', 'Display name', { required: true, maxlength: 200 })}
${input('apiKey', `API key sent to the backend (now ${view.apiKey ?? 'none'}; empty keeps it)`, { type: 'password', maxlength: 500 })}
${input('signInUrl', 'Sign-in URL (login links)', url)}</fieldset>
<fieldset><legend>Backend URLs <span class="muted">({name} and {tenantId} are filled in; empty clears)</span></legend>${WEBHOOK_EVENTS.map((event) => input(`webhooks.${event}`, event, url))}</fieldset>
<fieldset><legend>Health check</legend>${input('healthCheck.url', 'Health-check URL', url)}
${HEALTH_NUMBERS.map(([name, label]) => input(`healthCheck.${name}`, label, number))}</fieldset>
<fieldset><legend>Provisioning</legend>${input('provisioning.mode', 'Mode', {
    choices: [
      ['callback', 'callback: a 2xx starts the step, the backend reports'],
      ['response', 'response: a 2xx completes the step'],
    ],
  })}
${input('provisioning.autoSendCreation', 'Send the creation request by itself', {
  choices: [
    ['true', 'yes'],
    ['false', 'no'],
  ],
})}
${PROVISIONING_NUMBERS.map(([name, label]) => input(`provisioning.${name}`, label, number))}</fieldset>
<button type="submit">Save settings</button></form>`;
}

/**
 * Saving the settings: the form becomes the body of `PATCH /v1/products/{product}`, checked by
 * that route's validator and saved by its service (audited, the operator as actor) with the
 * version the form was drawn from as `If-Match`, so a change made meanwhile is not overwritten.
 * A refused form is drawn again (400, or 412 with the current settings) with nothing saved.
 */
export function registerProductSettingsActions(
  router: ConsoleRouter,
  page: (context: ConsoleContext, product: ProductRow, forms: Record<string, FormState>, status: number) => Promise<Rendered>,
): void {
  router.action('/console/products/:product/settings', async (context) => {
    const { db, box, clock } = context.services;
    const ref = context.params.product ?? '';
    const body = bodyOfForm(context.form, FIELDS) as ProductUpdateBody;
    try {
      assertApiValid(ProductUpdate, body);
      const { row } = await db
        .transaction()
        .execute((tx) => updateProductSettings(tx, { box, clock }, context.caller, ref, body, context.form.version || undefined));
      return { redirect: `/console/products/${row.id}`, notice: 'updated' };
    } catch (error) {
      const problems = formProblemsOf(error);
      if (!problems) throw error;
      const product = await getVisibleProduct(db, context.principal, ref);
      if (error instanceof AppError && error.code === 'request.precondition_failed') {
        const stale = { values: currentValues(product), problems: [{ ...(problems[0] as (typeof problems)[0]), message: STALE }] };
        return page(context, product, { [FORM]: stale }, error.status);
      }
      // What was typed is drawn again, but never the API key: a secret does not go back into a page.
      return page(context, product, { [FORM]: { values: { ...context.form, apiKey: undefined }, problems } }, (error as AppError).status);
    }
  });
}

const STALE = 'Someone changed these settings after this page was drawn; nothing was saved. The form now shows the current settings.';
