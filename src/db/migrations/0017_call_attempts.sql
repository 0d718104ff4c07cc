-- Each call to a product's backend records how far its attempts got (issue #13: a DELETE notice reached the
-- app twice after a SIGKILL). An attempt's outcome — its timeline entry, and the next attempt's job or the
-- settlement — commits with this row moving past it. graphile-worker completes the job afterwards, in a
-- statement of its own: a process that dies in between leaves the job locked, the job is handed back and
-- runs again, and without this row it would make the call again (and enqueue a second next attempt).
create table backend_call_attempts (
  step_id uuid not null,
  kind text not null,
  -- The last attempt whose outcome was recorded; a job of this attempt or an earlier one has nothing to do.
  finished_attempt integer not null,
  finished_at timestamptz not null,
  primary key (step_id, kind)
);
-- The daily prune reads by age.
create index backend_call_attempts_finished_at_idx on backend_call_attempts (finished_at);
