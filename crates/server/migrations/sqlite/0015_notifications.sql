-- Notifications outside the app (issue 13). docs/notifications.md gives the rules.
-- (0013 and 0014 are other changes' numbers.)

-- A user's choices. No row: the defaults (e-mail and push on, quiet from 21:00 to 08:00).
CREATE TABLE notification_settings (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email       INTEGER NOT NULL CHECK (email IN (0, 1)),
    push        INTEGER NOT NULL CHECK (push IN (0, 1)),
    -- Minutes after midnight (practice time); both NULL: no quiet hours.
    quiet_from  INTEGER CHECK (quiet_from BETWEEN 0 AND 1439),
    quiet_to    INTEGER CHECK (quiet_to BETWEEN 0 AND 1439),
    updated_at  INTEGER NOT NULL,
    CHECK ((quiet_from IS NULL) = (quiet_to IS NULL))
) STRICT;

-- What each participant was told by e-mail about each conversation, whatever the instance
-- that told them: a notice is claimed by a conditional update of this row before it is sent.
CREATE TABLE email_notices (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The messages up to this seq were announced.
    notified_seq    INTEGER NOT NULL DEFAULT 0,
    -- What the latest reminder was about: the first unread seq (a patient) or the start of
    -- the wait (a doctor, milliseconds).
    reminded_key    INTEGER NOT NULL DEFAULT 0,
    -- When the latest e-mail about this conversation went to this user (0: never).
    last_sent_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
) STRICT;
