-- Web Push (issue 13). The same schema as migrations/postgres/0015_push_subscriptions.sql;
-- docs/notifications.md gives the rules.

-- Each browser a user subscribed (RFC 8030 / 8291): its push service's endpoint and its keys
-- (base64url, as the browser gave them). An endpoint belongs to one user: the browser's latest
-- subscriber.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);

-- What each participant was told by push about each conversation, claimed by a conditional
-- update before it is sent (as `email_notices`, so that on a cluster one instance sends it).
CREATE TABLE push_notices (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The messages up to this seq were announced.
    notified_seq    INTEGER NOT NULL DEFAULT 0,
    -- When the latest push about this conversation went to this user (0: never).
    last_sent_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
) STRICT;
