-- The outbox key of each user (issue 10). The same schema as
-- migrations/sqlite/0008_outbox_keys.sql, which explains it; docs/outbox.md has the reasoning.
CREATE TABLE outbox_keys (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
