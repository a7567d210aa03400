-- Colloque initial schema. Migrations are append-only: never edit this file once released,
-- add a new numbered file instead.
--
-- Conventions: every time is INTEGER milliseconds since the Unix epoch (UTC); tables are
-- STRICT so a wrong type is an error instead of a silent conversion.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    role          TEXT    NOT NULL CHECK (role IN ('patient', 'doctor')),
    display_name  TEXT    NOT NULL CHECK (length(display_name) > 0),
    -- Stored lowercased so that the unique index is case-insensitive in practice.
    email         TEXT    NOT NULL UNIQUE CHECK (email = lower(email)),
    speciality    TEXT,
    -- PHC string (argon2id parameters and salt included).
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE care_relationships (
    doctor_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    patient_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (doctor_id, patient_id)
) STRICT;
CREATE INDEX care_relationships_by_patient ON care_relationships (patient_id);

CREATE TABLE appointments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    doctor_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    starts_at        INTEGER NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    location         TEXT    NOT NULL,
    reason           TEXT    NOT NULL
) STRICT;
CREATE INDEX appointments_by_patient ON appointments (patient_id, starts_at);
CREATE INDEX appointments_by_doctor ON appointments (doctor_id, starts_at);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    doctor_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject          TEXT    NOT NULL CHECK (length(subject) > 0),
    status           TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    -- The seq of the latest message; the next message gets last_seq + 1 in the same
    -- transaction, which is what makes per-conversation sequence numbers gap-free.
    last_seq         INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    CHECK (patient_id <> doctor_id)
) STRICT;
CREATE INDEX conversations_by_patient ON conversations (patient_id, last_activity_at);
CREATE INDEX conversations_by_doctor ON conversations (doctor_id, last_activity_at);
-- At most one open conversation per patient–doctor pair: starting a conversation twice
-- (two tabs, a double click) returns the existing one.
CREATE UNIQUE INDEX conversations_one_open_per_pair
    ON conversations (patient_id, doctor_id) WHERE status = 'open';

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    sender_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id       TEXT    NOT NULL,
    body            TEXT    NOT NULL CHECK (length(body) > 0),
    sent_at         INTEGER NOT NULL,
    UNIQUE (conversation_id, seq),
    -- Idempotency key: a retried send is stored once.
    UNIQUE (sender_id, client_id)
) STRICT;

CREATE TABLE read_cursors (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq >= 0),
    PRIMARY KEY (user_id, conversation_id)
) STRICT;

CREATE TABLE sessions (
    -- Random, unguessable; carried in the access token as `sid`.
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);
