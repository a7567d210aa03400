-- Reply templates (issue 12). The same schema as migrations/postgres/0013_reply_templates.sql;
-- docs/protocol.md, "Reply templates", gives the rules. (0013 is another change's number.)

-- A doctor's templates: personal (only its owner sees it) or shared (every doctor sees and
-- uses it; only its owner edits or deletes it). The body keeps its variables as typed.
CREATE TABLE reply_templates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    shared     INTEGER NOT NULL CHECK (shared IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX reply_templates_by_owner ON reply_templates (owner_id);
CREATE INDEX reply_templates_shared ON reply_templates (shared) WHERE shared = 1;

-- The template a message came from, for the audit. No foreign key on purpose: a template
-- deleted later leaves its id on the messages sent from it (and in the audit trail).
ALTER TABLE messages ADD COLUMN template_id INTEGER;
