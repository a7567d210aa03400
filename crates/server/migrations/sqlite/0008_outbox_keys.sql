-- The outbox key of each user (issue 10, "Nothing readable is left in the browser"): 256
-- random bits, URL-safe base64 (43 characters), made at the user's first login and given in
-- every login and refresh answer. The app encrypts its unsent messages with it (AES-256-GCM)
-- before keeping them in the browser's storage, and holds it in memory only; a later user of
-- the same computer finds ciphertext. `rotate-outbox-key` replaces it (what a browser still
-- holds under the old key is then dropped, and its user told). docs/outbox.md has the reasoning.
CREATE TABLE outbox_keys (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
