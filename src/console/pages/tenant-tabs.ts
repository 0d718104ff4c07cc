import { findAuditRecords } from '../../audit/audit.repo.ts';
import { listConnections } from '../../connections/connections.service.ts';
import { tenantHealthReport } from '../../health/health.service.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { listMemberships } from '../../people/memberships.service.ts';
import type { TenantRecord } from '../../tenants/tenants.repo.ts';
import { barChart, bucketize } from '../charts.ts';
import { findHourlySeries, findLatestTimeline } from '../console.repo.ts';
import { badge, csrfField, empty, json, pager, postButton, when, withQuery } from '../layout.ts';
import type { ConsoleContext } from '../router.ts';
import { renderBilling } from './tenant-billing.ts';
import { renderSubscription } from './tenant-subscription.ts';
import { renderUsage } from './tenant-usage.ts';

/**
 * One tab of the tenant page. A new tab (subscription, usage, invoices…) is one entry in
 * {@link TENANT_TABS}: an id for `?tab=`, a label, and a function that renders it from
 * the tenant, calling the same services as `/v1` with `context.caller`.
 */
export interface TenantTab {
  id: string;
  label: string;
  render(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml>;
}

const KINDS = ['transition', 'call', 'report', 'health'] as const;

/** The timeline: every transition, call (request, answer, duration) and report, newest first. */
export async function renderTimeline(context: ConsoleContext, tenant: TenantRecord, limit = 50): Promise<SafeHtml> {
  const before = context.query.before && /^\d{1,19}$/.test(context.query.before) ? Number(context.query.before) : undefined;
  const kind = KINDS.find((candidate) => candidate === context.query.kind);
  const rows = await findLatestTimeline(context.services.db, tenant.id, { beforeId: before, limit, kind });
  const kinds = html`<nav aria-label="Timeline entries"><p>${[undefined, ...KINDS].map((candidate) =>
    candidate === kind
      ? html`<strong aria-current="true">${candidate ?? 'everything'}</strong> `
      : html`<a href="${withQuery(`/console/tenants/${tenant.id}`, { tab: 'timeline', kind: candidate })}">${candidate ?? 'everything'}</a> `,
  )}</p></nav>`;
  if (!rows.length) return html`${kinds}${empty('Nothing happened to this tenant yet.')}`;
  const more = rows.length > limit ? rows[limit - 1]?.id : undefined;
  const kindTone = (kind: string) => (kind === 'call' ? 'warn' : kind === 'report' ? 'good' : kind === 'health' ? 'neutral' : 'neutral');
  return html`${kinds}<table><caption class="muted">Timeline, newest first</caption><thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">What</th><th scope="col">Details</th></tr></thead><tbody>${rows
    .slice(0, limit)
    .map((row) => {
      const detail = row.detail as Record<string, unknown>;
      const what =
        row.kind === 'call'
          ? html`${String(detail.url ?? '')} → ${detail.status === undefined ? String(detail.error ?? 'no answer') : `HTTP ${String(detail.status)}`}${detail.durationMs !== undefined ? ` in ${String(detail.durationMs)} ms` : ''}`
          : html`${row.action ?? ''}${row.from_status || row.to_status ? html` <span class="muted">${row.from_status ?? ''} → ${row.to_status ?? ''}</span>` : ''}`;
      return html`<tr><td>${when(row.at)}</td><td>${badge(row.kind, kindTone(row.kind))}</td><td>${what}<br><span class="muted">${row.actor_type ?? ''} ${row.actor_id ?? ''}</span></td>
<td><details><summary>Details</summary>${json(detail)}</details></td></tr>`;
    })}</tbody></table>${more ? html`<p><a href="${withQuery(`/console/tenants/${tenant.id}`, { tab: 'timeline', kind, before: String(more) })}">Older entries</a></p>` : ''}`;
}

const WINDOWS = [
  { id: '24h', hours: 24, buckets: 24, label: '24 hours (hourly)' },
  { id: '7d', hours: 24 * 7, buckets: 28, label: '7 days (6-hourly)' },
  { id: '30d', hours: 24 * 30, buckets: 30, label: '30 days (daily)' },
] as const;

async function renderHealth(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const now = context.services.clock.now();
  const window = WINDOWS.find((candidate) => candidate.id === context.query.window) ?? WINDOWS[0];
  const [report, hourly] = await Promise.all([
    tenantHealthReport(context.services.db, context.principal, tenant.id, now),
    findHourlySeries(context.services.db, tenant.id, new Date(now.getTime() - window.hours * 3_600_000)),
  ]);
  const uptime = bucketize(hourly, now, window.hours, window.buckets, (rows) => {
    const probes = rows.reduce((sum, row) => sum + row.probes, 0);
    const failures = rows.reduce((sum, row) => sum + row.failures, 0);
    return probes ? (100 * (probes - failures)) / probes : null;
  });
  const latency = bucketize(hourly, now, window.hours, window.buckets, (rows) => {
    const probes = rows.reduce((sum, row) => sum + row.probes, 0);
    return probes ? rows.reduce((sum, row) => sum + row.latency_sum_ms, 0) / probes : null;
  });
  const maxLatency = Math.max(1, ...latency.map((point) => point.value ?? 0));
  return html`<nav aria-label="Health period"><p>${WINDOWS.map((candidate) =>
    candidate.id === window.id
      ? html`<strong aria-current="true">${candidate.label}</strong> `
      : html`<a href="${withQuery(`/console/tenants/${tenant.id}`, { tab: 'health', window: candidate.id })}">${candidate.label}</a> `,
  )}</p></nav>
${healthControls(context, tenant)}
<dl class="facts"><dt>Now</dt><dd>${report.current ? report.current.state : 'not watched (not live)'}</dd>
${Object.entries(report.uptime).map(([key, value]) => html`<dt>Uptime ${key}</dt><dd>${uptimeText(value)}</dd>`)}</dl>
<h2>Uptime, ${window.label}</h2>${barChart({ title: 'Uptime', points: uptime, max: 100, unit: '%', tone: (value) => (value >= 99 ? '#1a7f37' : value >= 90 ? '#8a5300' : '#b00020') })}
<h2>Latency, ${window.label}</h2>${barChart({ title: 'Average latency', points: latency, max: maxLatency, unit: 'ms' })}
<h2>Recent probes</h2>${
    report.recentProbes.length
      ? html`<table><thead><tr><th scope="col">When</th><th scope="col">Result</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Error</th></tr></thead><tbody>${report.recentProbes.map(
          (probe) =>
            html`<tr><td>${when(probe.at)}</td><td>${probe.ok ? badge('ok', 'good') : badge('failed', 'bad')}</td><td>${probe.status ?? '—'}</td><td>${probe.latencyMs ?? '—'} ms</td><td>${probe.error ?? ''}</td></tr>`,
        )}</tbody></table>`
      : empty('No failed or state-changing probes kept.')
  }`;
}

// Pause/resume and probe now, for a watched tenant (operators only: the services refuse clients).
function healthControls(context: ConsoleContext, tenant: TenantRecord): SafeHtml {
  if (!tenant.health_watched) return html``;
  const base = `/console/tenants/${tenant.id}/health`;
  return html`<div class="actions">${
    tenant.health_paused
      ? html`<span>${badge('paused', 'warn')} ${tenant.health_paused_reason ?? ''}</span>${postButton(`${base}/resume`, 'Resume probing', context.csrf)}`
      : html`${postButton(`${base}/probe`, 'Probe now', context.csrf)}<form class="inline" method="post" action="${base}/pause">${csrfField(context.csrf)}<label class="inline" for="pause-reason">Reason</label> <input id="pause-reason" name="reason" maxlength="500"> <button type="submit" class="secondary">Pause probing</button></form>`
  }</div>`;
}

function uptimeText(value: unknown): string {
  const entry = value as { uptime: number | null; probes: number; latencyMs: { p95: number } | null };
  if (entry.uptime === null) return '—';
  return `${(entry.uptime * 100).toFixed(2)} % of ${entry.probes} probes${entry.latencyMs ? `, p95 ${entry.latencyMs.p95} ms` : ''}`;
}

async function renderPeople(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const page = await listMemberships(context.services.db, context.caller, tenant.id, context.query.cursor, 100);
  if (!page.items.length) return empty('This tenant has no users.');
  return html`<table><thead><tr><th scope="col">Login</th><th scope="col">E-mail</th><th scope="col">Status</th><th scope="col">Roles</th><th scope="col">Sign in</th></tr></thead><tbody>${page.items.map(
    (member) =>
      html`<tr><td>${member.login}</td><td>${member.email}</td><td>${member.status}</td><td>${member.roles.join(', ') || '—'}</td>
<td>${member.status === 'active' ? html`<form class="inline" method="post" action="/console/tenants/${tenant.id}/people/${encodeURIComponent(member.login)}/login-link">${csrfField(context.csrf)}<button type="submit" class="secondary">Issue login link</button></form>` : '—'}</td></tr>`,
  )}</tbody></table>${pager(`/console/tenants/${tenant.id}`, { tab: 'people' }, page.nextCursor, { label: 'More people' })}`;
}

async function renderConnections(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const page = await listConnections(context.services.db, context.caller, tenant.id, context.query.cursor, 100);
  if (!page.items.length) return empty('This tenant has no API connections.');
  return html`<table><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Active</th><th scope="col">Permissions</th><th scope="col">Created</th></tr></thead><tbody>${page.items.map(
    (connection) =>
      html`<tr><td>${connection.name}</td><td>${connection.type}</td><td>${connection.active ? 'yes' : 'no'}</td><td>${connection.permissions.join(', ') || '—'}</td><td>${when(connection.created_at)}</td></tr>`,
  )}</tbody></table>${pager(`/console/tenants/${tenant.id}`, { tab: 'connections' }, page.nextCursor, { label: 'More connections' })}`;
}

async function renderMetadata(_context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  return html`<h2>Metadata</h2><p class="muted">Owned by the product's backend.</p>${json(tenant.metadata)}<h2>Specification values</h2>${json(tenant.specifications)}`;
}

async function renderAudit(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const rows = await findAuditRecords(context.services.db, { objectId: tenant.id, productId: tenant.product_id }, 50);
  if (!rows.length) return empty('No audit records for this tenant.');
  return html`<table><thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Actor</th></tr></thead><tbody>${rows
    .slice(0, 50)
    .map(
      (row) => html`<tr><td>${when(row.at)}</td><td>${row.action}</td><td>${row.actor_type} ${row.actor_id}</td></tr>`,
    )}</tbody></table>`;
}

/** The tenant page's tabs, in order; the first is the default. */
export const TENANT_TABS: TenantTab[] = [
  { id: 'timeline', label: 'Timeline', render: (context, tenant) => renderTimeline(context, tenant) },
  { id: 'health', label: 'Health', render: renderHealth },
  { id: 'subscription', label: 'Subscription', render: renderSubscription },
  { id: 'usage', label: 'Usage', render: renderUsage },
  { id: 'billing', label: 'Invoices and bills', render: renderBilling },
  { id: 'people', label: 'People', render: renderPeople },
  { id: 'connections', label: 'Connections', render: renderConnections },
  { id: 'metadata', label: 'Metadata', render: renderMetadata },
  { id: 'audit', label: 'Audit', render: renderAudit },
];
