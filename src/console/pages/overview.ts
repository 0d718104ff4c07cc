import { html, type SafeHtml } from '../../http/html.ts';
import { listTenants } from '../../tenants/tenants.service.ts';
import { listEndpoints } from '../../webhooks/endpoints.service.ts';
import { countTenantsByStatus, findLatestEvents, findOverdueReports, findUnhealthy, setupProgress } from '../console.repo.ts';
import { badge, empty, statusTone, when } from '../layout.ts';
import type { ConsoleContext, ConsoleRouter } from '../router.ts';

/**
 * One card of the overview. Features that land later (plan changes waiting for a backend,
 * failing renewals, past-due invoices) add a card here: a title and a render function.
 */
export interface OverviewCard {
  title: string;
  render(context: ConsoleContext): Promise<SafeHtml>;
}

const LATEST_EVENTS = 10;

async function byStatus(context: ConsoleContext): Promise<SafeHtml> {
  const rows = await countTenantsByStatus(context.services.db, context.principal.productId);
  if (!rows.length) return empty('No tenants yet.');
  return html`<table><thead><tr><th scope="col">Status</th><th scope="col" class="num">Tenants</th></tr></thead><tbody>${rows.map(
    (row) =>
      html`<tr><td><a href="/console/tenants?status=${row.status}">${badge(row.status, statusTone(row.status))}</a></td><td class="num">${row.count}</td></tr>`,
  )}</tbody></table>`;
}

async function failures(context: ConsoleContext): Promise<SafeHtml> {
  const page = await listTenants(context.services.db, context.principal, { status: 'failure', limit: 10 });
  if (!page.items.length) return empty('No tenant is in failure.');
  return html`<ul>${page.items.map((tenant) => html`<li><a href="/console/tenants/${tenant.id}">${tenant.name}</a>: ${tenant.failed_step ?? 'a'} step failed</li>`)}</ul>${
    page.nextCursor ? html`<p><a href="/console/tenants?status=failure">All tenants in failure</a></p>` : ''
  }`;
}

async function unhealthy(context: ConsoleContext): Promise<SafeHtml> {
  const rows = await findUnhealthy(context.services.db, context.principal.productId, 10);
  if (!rows.length) return empty('Every watched tenant is healthy.');
  return html`<ul>${rows.map((row) => html`<li><a href="/console/tenants/${row.id}?tab=health">${row.name}</a> ${badge(row.state, 'bad')} since ${when(row.state_since)}</li>`)}</ul>`;
}

async function overdue(context: ConsoleContext): Promise<SafeHtml> {
  const rows = await findOverdueReports(context.services.db, context.principal.productId, context.services.clock.now(), 10);
  if (!rows.length) return empty('No backend report is overdue.');
  return html`<ul>${rows.map((row) => html`<li><a href="/console/tenants/${row.id}">${row.name}</a> (${row.status}), due ${when(row.report_due_at)}</li>`)}</ul>`;
}

async function disabledEndpoints(context: ConsoleContext): Promise<SafeHtml> {
  const page = await listEndpoints(context.services.db, context.caller, undefined, 200);
  const disabled = page.items.filter((row) => !row.enabled);
  if (!disabled.length) return empty('Every webhook endpoint is enabled.');
  return html`<ul>${disabled.map((row) => html`<li><a href="/console/webhooks/${row.id}">${row.url}</a>: ${row.disabled_reason ?? 'disabled'}</li>`)}</ul>`;
}

async function latestEvents(context: ConsoleContext): Promise<SafeHtml> {
  const latest = await findLatestEvents(context.services.db, context.principal.productId, LATEST_EVENTS);
  if (!latest.length) return empty('No events yet.');
  return html`<ul>${latest.map((event) => html`<li>${when(event.occurred_at)} <a href="/console/events/${event.id}">${event.type}</a></li>`)}</ul><p><a href="/console/events">The event feed</a></p>`;
}

async function checklist(context: ConsoleContext): Promise<SafeHtml> {
  const progress = await setupProgress(context.services.db, context.principal.productId);
  const steps = [
    { done: progress.products > 0, text: 'Create a product', href: '/console/products' },
    {
      done: progress.with_urls > 0,
      text: "Set the backend's URLs for creation, activation, deactivation and deletion",
      href: '/console/products',
    },
    { done: progress.clients > 0, text: 'Create a client for the backend', href: '/console/products' },
    { done: progress.prices > 0, text: 'Publish a plan and a price', href: '/console/products' },
    { done: progress.endpoints > 0, text: 'Add a webhook endpoint', href: '/console/webhooks' },
  ];
  if (steps.every((step) => step.done)) return html`<p>${badge('done', 'good')} Everything is set up.</p>`;
  return html`<ol class="checklist">${steps.map(
    (step) => html`<li${step.done ? html` class="done"` : ''}>${step.done ? 'Done: ' : ''}<a href="${step.href}">${step.text}</a></li>`,
  )}</ol>`;
}

/** The overview's cards, in order. */
export const OVERVIEW_CARDS: OverviewCard[] = [
  { title: 'Get started', render: checklist },
  { title: 'Tenants by status', render: byStatus },
  { title: 'Failures', render: failures },
  { title: 'Unhealthy tenants', render: unhealthy },
  { title: 'Overdue backend reports', render: overdue },
  { title: 'Disabled webhook endpoints', render: disabledEndpoints },
  { title: 'Latest events', render: latestEvents },
];

/** The overview: what is wrong right now, and where to start. */
export function registerOverviewPage(router: ConsoleRouter): void {
  router.page('/console', async (context) => {
    const cards = await Promise.all(
      OVERVIEW_CARDS.map(async (card) => html`<section class="card"><h2>${card.title}</h2>${await card.render(context)}</section>`),
    );
    return { title: 'Overview', section: '', body: html`<h1>Overview</h1><div class="cards">${cards}</div>` };
  });
}
