-- Refresh credentials that rotate, access tokens that a refresh retires, and what the sessions
-- page shows (issue 10). docs/security.md, "Refresh tokens", gives the reasoning.
--
-- Every session open before this migration ends: its access tokens carry no generation and it
-- has no refresh credential, so it could not be renewed anyway. Everyone logs in once more.
-- SQLite adds a NOT NULL column only with a default, so the (emptied) table is built again.
DROP TABLE sessions;
CREATE TABLE sessions (
    -- Random, unguessable; carried in the access token as `sid`. Never shown.
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The session's public name (random): the sessions page's id, and the last segment of its
    -- refresh route, to which its refresh cookie is scoped. Not a credential.
    public_id    TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_seen_at INTEGER NOT NULL DEFAULT 0,
    -- Bumped by every refresh that rotates the credential. An access token carries the
    -- generation it was issued for (claim `gen`); one of an earlier generation stops working
    -- `Limits::refresh_grace` after `rotated_at`.
    generation   INTEGER NOT NULL DEFAULT 0,
    rotated_at   INTEGER,
    -- A coarse label of the browser and system, read from the User-Agent at login
    -- ("Firefox · Android"); '' when unknown. Never the User-Agent itself.
    device       TEXT    NOT NULL DEFAULT '',
    -- The client's address at the latest login or refresh, as the audit trail reads it.
    ip           TEXT
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Refresh credentials: 256 random bits each, handed out in an HttpOnly cookie; only their
-- SHA-256 is kept. A session's current credentials have no `replaced_at`; a rotation sets it
-- on all of them and adds one. A replaced credential presented again is a reuse (RFC 9700
-- §4.14.2): the session is revoked. Replaced ones stay until their session is deleted, so that a
-- reuse is recognised whatever came after it.
CREATE TABLE refresh_tokens (
    -- SHA-256 of the credential, hex.
    hash        TEXT    PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    replaced_at INTEGER
) STRICT;
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
