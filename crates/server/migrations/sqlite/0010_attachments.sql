-- Attachments (issue 13): files uploaded before a message is sent, then linked to it.
--
-- `attachment_blobs` holds each distinct content once, keyed by the SHA-256 of the bytes as
-- stored (after their metadata was removed): two uploads of the same bytes share one row.
-- `attachments` is one upload: who uploaded it, its sniffed type, the name they gave, and
-- once sent, the message and the conversation it went with (both NULL until then). An upload
-- never sent is deleted after a day, and a blob no upload refers to with it (background.rs).
-- Files and their metadata are written in one transaction: never one without the other.
CREATE TABLE attachment_blobs (
    sha256     TEXT    PRIMARY KEY CHECK (length(sha256) = 64),
    size       INTEGER NOT NULL CHECK (size >= 0),
    content    BLOB    NOT NULL,
    -- A small JPEG of a JPEG or PNG image; NULL for PDF and HEIC.
    thumbnail  BLOB,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The public id: a random UUID (ids cannot be guessed nor counted).
    public_id       TEXT    NOT NULL UNIQUE,
    owner_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256          TEXT    NOT NULL REFERENCES attachment_blobs (sha256),
    content_type    TEXT    NOT NULL CHECK (content_type IN
                        ('application/pdf', 'image/jpeg', 'image/png', 'image/heic', 'image/heif')),
    name            TEXT    NOT NULL CHECK (length(name) > 0),
    size            INTEGER NOT NULL CHECK (size >= 0),
    created_at      INTEGER NOT NULL,
    message_id      INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX attachments_by_owner ON attachments (owner_id, message_id);
CREATE INDEX attachments_by_message ON attachments (message_id);
CREATE INDEX attachments_by_conversation ON attachments (conversation_id, id);
CREATE INDEX attachments_by_blob ON attachments (sha256);
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE message_id IS NULL;
