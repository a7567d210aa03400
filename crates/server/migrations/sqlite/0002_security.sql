-- Sessions get an idle limit, and the server gets an append-only audit trail.

-- Last activity of a session (request, socket frame other than a ping, refresh). A session idle
-- for longer than the configured limit can no longer be used nor refreshed.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;

-- Who did what, when, from where. Never message bodies, passwords or tokens.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    -- The acting user when known. No foreign key: the trail outlives accounts.
    user_id         INTEGER,
    -- Failed logins for an unknown account: SHA-256 of the normalised email, never the email.
    email_hash      TEXT,
    -- login, login_failed, login_throttled, logout, refresh, refresh_failed,
    -- conversations_listed, conversation_opened, history_read, access_denied,
    -- ws_frame_refused, origin_refused, session_revoked, account_disabled, account_enabled, ...
    action          TEXT    NOT NULL CHECK (length(action) > 0),
    conversation_id INTEGER,
    -- A short machine-written detail (an error code, a refused origin). Never user text.
    detail          TEXT,
    ip              TEXT,
    user_agent      TEXT,
    transport       TEXT    NOT NULL CHECK (transport IN ('rest', 'ws', 'cli', 'system'))
) STRICT;
CREATE INDEX audit_log_by_user ON audit_log (user_id, at);
CREATE INDEX audit_log_by_email_hash ON audit_log (email_hash, at) WHERE email_hash IS NOT NULL;
CREATE INDEX audit_log_by_time ON audit_log (at);

-- Append-only. Rows cannot be changed, and can be deleted only by the retention purge, which
-- announces its cut-off in `audit_purge` inside its own transaction (then empties it): only
-- rows older than an announced cut-off can go. This guards against application bugs and stray
-- SQL; whoever can write the database file itself can also drop triggers, which is why the file
-- is owner-only and backed up (docs/security.md).
CREATE TABLE audit_purge (
    before INTEGER NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_delete_only_by_purge BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_purge WHERE OLD.at < audit_purge.before)
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are deleted only by the retention purge');
END;
