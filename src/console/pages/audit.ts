import { findAuditRecords } from '../../audit/audit.repo.ts';
import { html } from '../../http/html.ts';
import { empty, json, when, withQuery } from '../layout.ts';
import type { ConsoleRouter } from '../router.ts';

const PAGE_SIZE = 50;

/** The audit log, newest first, filtered by action, object or actor; a product-scoped operator sees its product's records. */
export function registerAuditPage(router: ConsoleRouter): void {
  router.page('/console/audit', async (context) => {
    const { action, object, actor } = context.query;
    const before = context.query.before && /^\d{1,19}$/.test(context.query.before) ? Number(context.query.before) : undefined;
    // A product-scoped operator sees its product's records only (as /v1/audit-log scopes them).
    const productId = context.principal.productId ?? undefined;
    const rows = await findAuditRecords(
      context.services.db,
      { productId, action, objectId: object, actorId: actor, beforeId: before },
      PAGE_SIZE,
    );
    const items = rows.slice(0, PAGE_SIZE);
    const next = rows.length > PAGE_SIZE ? items[items.length - 1]?.id : undefined;
    const body = html`<h1>Audit log</h1>
<form class="row" method="get" action="/console/audit">
<div><label for="action">Action</label><input id="action" name="action" value="${action ?? ''}" placeholder="tenant.deactivate"></div>
<div><label for="object">Object id</label><input id="object" name="object" value="${object ?? ''}"></div>
<div><label for="actor">Actor id</label><input id="actor" name="actor" value="${actor ?? ''}"></div><button type="submit">Filter</button></form>
${
  items.length
    ? html`<table><thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Actor</th><th scope="col">Change</th></tr></thead><tbody>${items.map(
        (row) =>
          html`<tr><td>${when(row.at)}</td><td>${row.action}</td><td>${row.object_type} <span class="mono">${row.object_id}</span></td><td>${row.actor_type} <span class="mono">${row.actor_id}</span></td>
<td>${row.before || row.after ? html`<details><summary>Before and after</summary>${json({ before: row.before, after: row.after })}</details>` : '—'}</td></tr>`,
      )}</tbody></table>`
    : empty('No audit records match.')
}${next ? html`<p><a rel="next" href="${withQuery('/console/audit', { action, object, actor, before: String(next) })}">Older records</a></p>` : ''}`;
    return { title: 'Audit log', section: 'audit', body };
  });
}
