-- Office hours, the promised reply time and absences (issue 12). The same schema as
-- migrations/postgres/0010_office_hours.sql; docs/care.md, "Office hours, absences and the
-- promised reply time", gives the rules. (0010 is another change's number.)

-- A doctor's promise and weekly hours. No row: no promise is shown.
CREATE TABLE reply_settings (
    doctor_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Working days to answer in; NULL: no promise.
    working_days INTEGER CHECK (working_days BETWEEN 0 AND 10),
    -- Seven "open-close" pairs in minutes after midnight (practice time), Monday first,
    -- comma-separated; an empty entry is a closed day.
    hours        TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Periods away, both days included ("YYYY-MM-DD", practice time), with a covering doctor.
CREATE TABLE absences (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    doctor_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    from_day           TEXT    NOT NULL,
    to_day             TEXT    NOT NULL CHECK (to_day >= from_day),
    covering_doctor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX absences_by_doctor ON absences (doctor_id, to_day);

-- The automatic replies posted: at most one per conversation and day (practice time), whatever
-- the instance that posts it.
CREATE TABLE auto_replies (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    day             TEXT    NOT NULL,
    PRIMARY KEY (conversation_id, day)
) STRICT;

-- A message may be the automatic reply. SQLite cannot change a CHECK constraint in place; the
-- documented way for a constraint that only admits more (sqlite.org/lang_altertable.html,
-- section 7) is to rewrite the table's definition text. The file format does not change.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
SET sql = replace(sql, 'CHECK (kind IN (''text'', ''closed'', ''reopened''))',
                       'CHECK (kind IN (''text'', ''closed'', ''reopened'', ''auto_reply''))')
WHERE type = 'table' AND name = 'messages';
PRAGMA writable_schema = RESET;
