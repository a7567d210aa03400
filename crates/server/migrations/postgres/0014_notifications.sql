-- Notifications outside the app (issue 13). The same schema as
-- migrations/sqlite/0015_notifications.sql; docs/notifications.md gives the rules.
-- (0012 and 0013 are other changes' numbers.)

CREATE TABLE notification_settings (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email       BOOLEAN NOT NULL,
    push        BOOLEAN NOT NULL,
    quiet_from  BIGINT CHECK (quiet_from BETWEEN 0 AND 1439),
    quiet_to    BIGINT CHECK (quiet_to BETWEEN 0 AND 1439),
    updated_at  BIGINT NOT NULL,
    CHECK ((quiet_from IS NULL) = (quiet_to IS NULL))
);

CREATE TABLE email_notices (
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    notified_seq    BIGINT NOT NULL DEFAULT 0,
    reminded_key    BIGINT NOT NULL DEFAULT 0,
    last_sent_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);
