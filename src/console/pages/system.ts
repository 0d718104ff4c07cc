import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { requireRole } from '../../access/principal.ts';
import type { Config } from '../../config/config.ts';
import type { Db } from '../../db/database.ts';
import { html } from '../../http/html.ts';
import { badge, empty, when } from '../layout.ts';
import type { ConsoleRouter } from '../router.ts';

/**
 * How far behind a sweep is: the due time of the oldest item it has not handled yet. A new
 * sweep (renewals, trial ends, recurring bills) adds its entry here to show its lag.
 */
export interface SweepLag {
  sweep: string;
  oldestDue(db: Db, now: Date): Promise<Date | null>;
}

/** The sweeps whose lag the system page shows. */
export const SWEEP_LAGS: SweepLag[] = [
  {
    sweep: 'report-deadlines',
    oldestDue: async (db, now) =>
      (
        await db
          .selectFrom('tenants')
          .select(sql<Date | null>`min(report_due_at)`.as('oldest'))
          .where('report_due_at', '<', now)
          .executeTakeFirst()
      )?.oldest ?? null,
  },
];

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
// Configuration values never shown, not even masked: they are secrets.
const SECRET_KEYS: ReadonlySet<keyof Config> = new Set(['adminKey', 'encryptionKey', 'databaseUrl']);

/** System (super admins): nodes and heartbeats, job queue counts, sweeper lag, components, configuration without secrets, version, migrations. */
export function registerSystemPage(router: ConsoleRouter): void {
  router.page('/console/system', async (context) => {
    requireRole(context.principal, 'super_admin');
    const { db, clock, config } = context.services;
    const now = clock.now();
    const [nodes, jobs, migrations, lags] = await Promise.all([
      db.selectFrom('landlord_nodes').selectAll().orderBy('started_at').execute(),
      sql<{ task: string; waiting: number; running: number; failed: number; oldest_due: Date | null }>`
        select t.identifier as task,
          count(*) filter (where j.is_available)::int as waiting,
          count(*) filter (where j.locked_at is not null)::int as running,
          count(*) filter (where j.attempts >= j.max_attempts)::int as failed,
          min(j.run_at) filter (where j.is_available and j.run_at <= ${now}) as oldest_due
        from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        group by t.identifier order by t.identifier`.execute(db),
      sql<{ id: number; name: string }>`select id, name from landlord_migrations order by id`.execute(db),
      Promise.all(SWEEP_LAGS.map(async (entry) => ({ sweep: entry.sweep, oldest: await entry.oldestDue(db, now) }))),
    ]);
    const lagOf = (since: Date | null | undefined) =>
      since ? `${Math.round((now.getTime() - new Date(since).getTime()) / 1000)} s` : 'none';
    const states = context.services.componentStates?.() ?? {};
    const shown = Object.entries(config).filter(([key]) => !SECRET_KEYS.has(key as keyof Config));
    const body = html`<h1>System</h1><p>Landlord ${VERSION} · this node <span class="mono">${context.services.nodeId}</span></p>
<h2>Nodes</h2>${
      nodes.length
        ? html`<table><thead><tr><th scope="col">Node</th><th scope="col">Role</th><th scope="col">Started</th><th scope="col">Heartbeat</th></tr></thead><tbody>${nodes.map(
            (node) =>
              html`<tr><td class="mono">${node.id}</td><td>${node.role}</td><td>${when(node.started_at)}</td><td>${when(node.heartbeat_at)} (${lagOf(node.heartbeat_at)} ago)</td></tr>`,
          )}</tbody></table>`
        : empty('No node has a heartbeat.')
    }
<h2>Job queue</h2>${
      jobs.rows.length
        ? html`<table><thead><tr><th scope="col">Task</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Running</th><th scope="col" class="num">Failed</th><th scope="col">Oldest due waits</th></tr></thead><tbody>${jobs.rows.map(
            (row) =>
              html`<tr><td class="mono">${row.task}</td><td class="num">${row.waiting}</td><td class="num">${row.running}</td><td class="num">${row.failed ? badge(String(row.failed), 'bad') : '0'}</td><td>${lagOf(row.oldest_due)}</td></tr>`,
          )}</tbody></table>`
        : empty('The job queue is empty.')
    }
<h2>Sweeps</h2><table><thead><tr><th scope="col">Sweep</th><th scope="col">State on this node</th><th scope="col">Oldest due item waits</th></tr></thead><tbody>${lags.map(
      (lag) =>
        html`<tr><td class="mono">${lag.sweep}</td><td>${states[`sweep:${lag.sweep}`] ?? 'not run here'}</td><td>${lagOf(lag.oldest)}</td></tr>`,
    )}</tbody></table>
<h2>Components of this node</h2>
<table><thead><tr><th scope="col">Component</th><th scope="col">State</th></tr></thead><tbody>${Object.entries(states).map(
      ([name, state]) => html`<tr><td class="mono">${name}</td><td>${badge(state, state === 'running' ? 'good' : 'bad')}</td></tr>`,
    )}</tbody></table>
<h2>Configuration</h2><p class="muted">Secrets (the admin key, the encryption key, the database URL) are never shown.</p>
<table><tbody>${shown.map(([key, value]) => html`<tr><th scope="row" class="mono">${key}</th><td class="mono">${Array.isArray(value) ? value.join(', ') : String(value ?? '—')}</td></tr>`)}</tbody></table>
<h2>Migrations</h2><ul>${migrations.rows.map((row) => html`<li class="mono">${String(row.id).padStart(4, '0')} ${row.name}</li>`)}</ul>`;
    return { title: 'System', section: 'system', body };
  });
}
