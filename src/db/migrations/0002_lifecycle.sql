-- Tenant lifecycle orchestration: the step in flight, the process timeline, and the
-- registry of running nodes (so the jobs of a node that died are handed over).

alter table tenants
  -- The step being carried out; sent to the backend with every attempt so it can de-duplicate.
  add column step_id uuid,
  -- Callback mode: when the backend's report is due.
  add column report_due_at timestamptz,
  -- Why the tenant is in failure (the backend's report body, or the refused call).
  add column failure_reason jsonb;

-- The sweeper finds overdue reports through this.
create index tenants_report_due_idx on tenants (report_due_at) where report_due_at is not null;

create table tenant_timeline (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  at timestamptz not null default now(),
  kind text not null check (kind in ('transition', 'call', 'report')),
  action text,
  from_status text,
  to_status text,
  actor_type text,
  actor_id text,
  -- The rest of the entry: reason, call URL/status/duration/response, report body.
  detail jsonb not null default '{}'
);
create index tenant_timeline_tenant_idx on tenant_timeline (tenant_id, id);

create table landlord_nodes (
  id text primary key,
  -- graphile-worker's pool id: the jobs this node holds are locked under it.
  worker_pool_id text,
  role text not null,
  started_at timestamptz not null default now(),
  heartbeat_at timestamptz not null default now()
);
