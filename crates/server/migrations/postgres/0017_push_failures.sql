-- A subscription whose push service keeps failing (its name does not resolve, it answers 5xx):
-- since when, and when it may be tried next (crate::notify::push_pass; docs/notifications.md).
-- Both NULL while it works. The same as migrations/sqlite/0018_push_failures.sql.
ALTER TABLE push_subscriptions ADD COLUMN failing_since BIGINT;
ALTER TABLE push_subscriptions ADD COLUMN retry_at BIGINT;
