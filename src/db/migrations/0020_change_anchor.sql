-- Plan history records the anchor (issue #11): a confirmed change that starts a new billing cycle moves the
-- subscription's anchor to the current period's end, and usage derives its week/month/year windows from the anchor
-- in force at each event's time. The subscription row keeps only the latest anchor; this keeps the earlier ones.
-- null: the change kept the anchor (the same cycle, a reset, or a change applied before this column existed).
alter table subscription_changes add column anchor_at timestamptz;

-- Usage ingestion's hot path (issue #11): a batch whose one statement needs nothing else to commit with it runs on its
-- own, without BEGIN and COMMIT (two round trips of four). When it turns out to need more (a threshold crossed, an
-- event past a limit: their events and flags must commit with it), the statement raises this and rolls back whole,
-- and the batch is written again in a transaction.
create function landlord_usage_needs_transaction() returns integer language plpgsql as $$
begin
  raise exception 'this usage batch needs a transaction' using errcode = 'LU001';
end
$$;
