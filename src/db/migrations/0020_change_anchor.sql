-- Plan history records the anchor (issue #11): a confirmed change that starts a new billing cycle moves the
-- subscription's anchor to the current period's end, and usage derives its week/month/year windows from the anchor
-- in force at each event's time. The subscription row keeps only the latest anchor; this keeps the earlier ones.
-- null: the change kept the anchor (the same cycle, a reset, or a change applied before this column existed).
alter table subscription_changes add column anchor_at timestamptz;
