import { EVENT_TYPES } from '../../events/event-types.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { getDelivery, listDeliveries, replayFailed, resendDelivery } from '../../webhooks/deliveries.service.ts';
import {
  createEndpoint,
  getVisibleEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  sendTestEvent,
  updateEndpointSettings,
} from '../../webhooks/endpoints.service.ts';
import { badge, csrfField, empty, json, pager, postButton, when } from '../layout.ts';
import type { ConsoleContext, ConsoleRouter } from '../router.ts';

const secretShown = (title: string, endpointId: string, secret: string): { title: string; section: string; body: SafeHtml } => ({
  title,
  section: 'webhooks',
  body: html`<h1>${title}</h1><div class="secret"><p>The signing secret, shown once:</p><p class="mono">${secret}</p></div><p><a href="/console/webhooks/${endpointId}">To the endpoint</a></p>`,
});

const deliveryTone = (status: string) => (status === 'delivered' ? 'good' : status === 'failed' ? 'bad' : 'warn');

/** Webhook endpoints: list and create; one endpoint with its deliveries (resend, replay failed), rotate, enable/disable; one delivery with its attempts. */
export function registerWebhookPages(router: ConsoleRouter): void {
  router.page('/console/webhooks', async (context) => {
    const page = await listEndpoints(context.services.db, context.caller, context.query.cursor, 50);
    const body = html`<h1>Webhook endpoints</h1>${
      page.items.length
        ? html`<table><thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Created</th></tr></thead><tbody>${page.items.map(
            (row) =>
              html`<tr><td><a href="/console/webhooks/${row.id}">${row.url}</a></td><td>${row.event_types.length ? row.event_types.join(', ') : 'all'}</td>
<td>${row.enabled ? badge('enabled', 'good') : badge('disabled', 'bad')}</td><td>${when(row.created_at)}</td></tr>`,
          )}</tbody></table>${pager('/console/webhooks', {}, page.nextCursor)}`
        : empty('No webhook endpoints yet.')
    }
<h2>Add an endpoint</h2><form method="post" action="/console/webhooks">${csrfField(context.csrf)}
<p><label for="url">URL</label><input id="url" name="url" type="url" required size="60"></p>
<p><label for="types">Event types</label><select id="types" name="eventTypes" multiple size="6" aria-describedby="types-hint">${EVENT_TYPES.map(
      (type) => html`<option value="${type}">${type}</option>`,
    )}</select><span class="muted" id="types-hint"> None chosen: every type.</span></p>
<p><label for="description">Description</label><input id="description" name="description" size="60"></p>
<p><button type="submit">Add endpoint</button></p></form>`;
    return { title: 'Webhook endpoints', section: 'webhooks', body };
  });

  router.action('/console/webhooks', async (context) => {
    const { db, box, clock } = context.services;
    const raw = (context.request.body as Record<string, unknown> | undefined)?.eventTypes;
    const eventTypes = (Array.isArray(raw) ? raw : raw ? [raw] : []).map(String);
    const created = await db.transaction().execute((tx) =>
      createEndpoint(tx, { box, clock }, context.caller, {
        url: context.form.url ?? '',
        ...(eventTypes.length ? { eventTypes } : {}),
        ...(context.form.description ? { description: context.form.description } : {}),
      }),
    );
    return secretShown('Endpoint added', created.id, created.secret);
  });

  router.page('/console/webhooks/:id', async (context) => {
    const { db } = context.services;
    const endpoint = await getVisibleEndpoint(db, context.caller, context.params.id ?? '');
    const status = ['pending', 'delivered', 'failed'].includes(context.query.status ?? '') ? context.query.status : undefined;
    const page = await listDeliveries(db, context.caller, endpoint.id, { status, cursor: context.query.cursor, limit: 50 });
    const settling = page.items.some((row) => row.status === 'pending');
    const base = `/console/webhooks/${endpoint.id}`;
    const deliveries = html`<div id="deliveries"${settling ? html` hx-get="${base}" hx-trigger="every 2s" hx-select="#deliveries" hx-target="#deliveries" hx-swap="outerHTML"` : ''} aria-live="polite">${
      page.items.length
        ? html`<table><caption class="muted">Deliveries, newest first</caption><thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th><th scope="col">Resend</th></tr></thead><tbody>${page.items.map(
            (row) =>
              html`<tr><td><a href="/console/deliveries/${row.id}">${row.event_type}</a></td><td>${badge(row.status, deliveryTone(row.status))}</td><td class="num">${row.attempts}</td>
<td>${row.last_status ?? row.last_error ?? '—'}</td><td>${when(row.created_at)}</td><td>${postButton(`/console/deliveries/${row.id}/resend`, 'Resend', context.csrf, { secondary: true })}</td></tr>`,
          )}</tbody></table>${pager(base, { status }, page.nextCursor)}`
        : empty('No deliveries.')
    }</div>`;
    const body = html`<p><a href="/console/webhooks">Webhook endpoints</a> › ${endpoint.url}</p><h1>${endpoint.url}</h1>
<p>${endpoint.enabled ? badge('enabled', 'good') : badge('disabled', 'bad')} ${endpoint.disabled_reason ?? ''}</p>
<dl class="facts"><dt>Events</dt><dd>${endpoint.event_types.length ? endpoint.event_types.join(', ') : 'every type'}</dd><dt>Description</dt><dd>${endpoint.description || '—'}</dd>
<dt>Failing since</dt><dd>${when(endpoint.failing_since)}</dd></dl>
<div class="actions">${postButton(`${base}/${endpoint.enabled ? 'disable' : 'enable'}`, endpoint.enabled ? 'Disable' : 'Enable', context.csrf, { secondary: true })}
${postButton(`${base}/rotate`, 'Rotate secret', context.csrf, { secondary: true })}
${postButton(`${base}/test`, 'Send a test event', context.csrf, { secondary: true })}
${postButton(`${base}/replay`, 'Replay failed deliveries (last 7 days)', context.csrf)}</div>
<h2>Deliveries</h2><p><a href="${base}">All</a> · <a href="${base}?status=failed">Failed</a> · <a href="${base}?status=pending">Pending</a> · <a href="${base}?status=delivered">Delivered</a></p>${deliveries}`;
    return { title: endpoint.url, section: 'webhooks', body, fragment: deliveries };
  });

  const setEnabled = (enabled: boolean) => async (context: ConsoleContext) => {
    const { db, box, clock } = context.services;
    const id = context.params.id ?? '';
    await db.transaction().execute((tx) => updateEndpointSettings(tx, { box, clock }, context.caller, id, { enabled }));
    return { redirect: `/console/webhooks/${id}`, notice: 'updated' as const };
  };
  router.action('/console/webhooks/:id/enable', setEnabled(true));
  router.action('/console/webhooks/:id/disable', setEnabled(false));

  router.action('/console/webhooks/:id/rotate', async (context) => {
    const { db, box, clock } = context.services;
    const rotated = await db
      .transaction()
      .execute((tx) => rotateEndpointSecret(tx, { box, clock }, context.caller, context.params.id ?? ''));
    return secretShown('Secret rotated', rotated.id, rotated.secret);
  });

  router.action('/console/webhooks/:id/test', async (context) => {
    const id = context.params.id ?? '';
    await context.services.db.transaction().execute((tx) => sendTestEvent(tx, context.caller, id));
    return { redirect: `/console/webhooks/${id}`, notice: 'sent' };
  });

  router.action('/console/webhooks/:id/replay', async (context) => {
    const { db, clock } = context.services;
    const now = clock.now();
    const id = context.params.id ?? '';
    await db.transaction().execute((tx) => replayFailed(tx, context.caller, id, new Date(now.getTime() - 7 * 86_400_000), now));
    return { redirect: `/console/webhooks/${id}`, notice: 'replayed' };
  });

  router.page('/console/deliveries/:id', async (context) => {
    const delivery = await getDelivery(context.services.db, context.caller, context.params.id ?? '');
    const body = html`<p><a href="/console/webhooks/${delivery.endpointId}">Endpoint</a> › delivery</p><h1>Delivery of ${delivery.eventType}</h1>
<p>${badge(delivery.status, deliveryTone(delivery.status))} after ${delivery.attempts} attempts</p>
<div class="actions">${postButton(`/console/deliveries/${delivery.id}/resend`, 'Resend', context.csrf)} <a href="/console/events/${delivery.eventId}">The event</a></div>
<h2>Attempts</h2>${
      delivery.attemptLog.length
        ? html`<table><thead><tr><th scope="col">When</th><th scope="col">Answer</th><th scope="col" class="num">Duration</th><th scope="col">Details</th></tr></thead><tbody>${delivery.attemptLog.map(
            (attempt) =>
              html`<tr><td>${when(attempt.at)}</td><td>${attempt.responseStatus ?? attempt.error ?? '—'}</td><td class="num">${attempt.durationMs ?? '—'} ms</td>
<td><details><summary>Request and answer</summary>${json({ requestHeaders: attempt.requestHeaders, responseBody: attempt.responseBody })}</details></td></tr>`,
          )}</tbody></table>`
        : empty('No attempt yet.')
    }`;
    return { title: 'Delivery', section: 'webhooks', body };
  });

  router.action('/console/deliveries/:id/resend', async (context) => {
    const { db, clock } = context.services;
    const row = await db.transaction().execute((tx) => resendDelivery(tx, context.caller, context.params.id ?? '', clock.now()));
    return { redirect: `/console/webhooks/${row.endpointId}`, notice: 'resent' };
  });
}
