-- Refresh credentials that rotate, access tokens that a refresh retires, and what the sessions
-- page shows (issue 10). The same schema as migrations/sqlite/0005_refresh_tokens.sql, which
-- explains the columns; docs/security.md, "Refresh tokens", gives the reasoning.
--
-- Every session open before this migration ends (no refresh credential, tokens without a
-- generation): everyone logs in once more.
DELETE FROM sessions;
ALTER TABLE sessions
    ADD COLUMN public_id  TEXT   NOT NULL UNIQUE,
    ADD COLUMN generation BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN rotated_at BIGINT,
    ADD COLUMN device     TEXT   NOT NULL DEFAULT '',
    ADD COLUMN ip         TEXT;

-- A refresh of a session locks its row (FOR UPDATE) before it reads its credentials, so that
-- two instances rotating one session's credential are ordered.
CREATE TABLE refresh_tokens (
    hash        TEXT   PRIMARY KEY,
    session_id  TEXT   NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    replaced_at BIGINT
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
