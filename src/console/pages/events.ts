import { AppError } from '../../errors/app-error.ts';
import { EVENT_SCHEMAS, EVENT_TYPES } from '../../events/event-types.ts';
import { findEventById, findEvents } from '../../events/events.repo.ts';
import { html } from '../../http/html.ts';
import { isUuid } from '../../platform/ids.ts';
import { empty, json, when, withQuery } from '../layout.ts';
import type { ConsoleRouter } from '../router.ts';

const PAGE_SIZE = 50;

/** The event feed (filtered by type, oldest first from a position, as `/v1/events` pages it) and one event with its payload. */
export function registerEventPages(router: ConsoleRouter): void {
  router.page('/console/events', async (context) => {
    const type = context.query.type && EVENT_TYPES.includes(context.query.type) ? context.query.type : undefined;
    const after = context.query.after && /^\d{1,19}$/.test(context.query.after) ? Number(context.query.after) : undefined;
    const tenant = context.query.tenant && isUuid(context.query.tenant) ? context.query.tenant : undefined;
    const rows = await findEvents(
      context.services.db,
      { types: type ? [type] : undefined, productId: context.principal.productId, tenantId: tenant, afterPosition: after },
      PAGE_SIZE,
    );
    const items = rows.slice(0, PAGE_SIZE);
    const next = rows.length > PAGE_SIZE ? items[items.length - 1]?.position : undefined;
    const body = html`<h1>Events${tenant ? html` of one tenant <a class="muted" href="/console/tenants/${tenant}">(the tenant)</a>` : ''}</h1>
<form class="row" method="get" action="/console/events">${tenant ? html`<input type="hidden" name="tenant" value="${tenant}">` : ''}<div><label for="type">Type</label><select id="type" name="type"><option value="">Every type</option>${EVENT_TYPES.map(
      (candidate) => html`<option value="${candidate}"${candidate === type ? ' selected' : ''}>${candidate}</option>`,
    )}</select></div><button type="submit">Filter</button></form>
${
  items.length
    ? html`<table><thead><tr><th scope="col" class="num">Position</th><th scope="col">When</th><th scope="col">Type</th><th scope="col">Tenant</th></tr></thead><tbody>${items.map(
        (event) =>
          html`<tr><td class="num">${event.position}</td><td>${when(event.occurred_at)}</td><td><a href="/console/events/${event.id}">${event.type}</a></td><td>${event.tenant_id ? html`<a href="/console/tenants/${event.tenant_id}">tenant</a>` : '—'}</td></tr>`,
      )}</tbody></table>`
    : empty('No events.')
}${next ? html`<p><a rel="next" href="${withQuery('/console/events', { type, tenant, after: String(next) })}">Next page</a></p>` : ''}
<p><a href="/console/events/catalogue">The event catalogue, with the schema of each payload</a></p>`;
    return { title: 'Events', section: 'events', body };
  });

  router.page('/console/events/catalogue', async () => {
    const body = html`<p><a href="/console/events">Events</a> › catalogue</p><h1>Event catalogue</h1>
<p class="muted">Every type Landlord emits, with the JSON Schema of its <span class="mono">data</span> (also in <a href="/openapi.json">the OpenAPI document</a> under <span class="mono">webhooks</span>).</p>
${EVENT_TYPES.map((type) => html`<details><summary class="mono">${type}</summary>${json(EVENT_SCHEMAS[type])}</details>`)}`;
    return { title: 'Event catalogue', section: 'events', body };
  });

  router.page('/console/events/:id', async (context) => {
    const id = context.params.id ?? '';
    const event = isUuid(id) ? await findEventById(context.services.db, id) : undefined;
    if (!event || (context.principal.productId !== null && event.product_id !== context.principal.productId)) {
      throw new AppError('event.not_found', { parameter: 'id' });
    }
    const body = html`<p><a href="/console/events">Events</a> › ${event.type}</p><h1>${event.type}</h1>
<dl class="facts"><dt>Id</dt><dd class="mono">${event.id}</dd><dt>Position</dt><dd>${event.position ?? 'not yet sequenced'}</dd><dt>When</dt><dd>${when(event.occurred_at)}</dd></dl>
<h2>Payload</h2>${json(event.data)}`;
    return { title: event.type, section: 'events', body };
  });
}
