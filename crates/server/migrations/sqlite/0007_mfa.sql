-- Multi-factor authentication (issue 10, OWASP ASVS 5.0 V6.3): a TOTP authenticator (RFC 6238)
-- and one-time recovery codes per account. docs/security.md, "Multi-factor authentication",
-- gives the reasoning.
--
-- One authenticator per account. Enrolment writes it with no `enabled_at` (pending: the user
-- has been shown the secret but has not yet proved that their app holds it); the first right
-- code sets `enabled_at`, and from then on the login needs a second step. Starting again
-- replaces a pending one, never an enabled one. Disabling deletes the row and the codes.
CREATE TABLE mfa_totp (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The 160-bit secret, encrypted with AES-256-GCM under a key derived from the server's
    -- secret (HKDF-SHA256), the user id as associated data: base64 of nonce || ciphertext.
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    enabled_at INTEGER,
    -- The latest 30-second time step whose code was accepted: a code is accepted only for a
    -- later step, so one code cannot be used twice (replay), on any instance.
    last_step  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Ten recovery codes, made when MFA is enabled and shown once. Each is 80 random bits; only an
-- HMAC-SHA256 of it under a server-side key is kept. A used code keeps its row, with `used_at`.
CREATE TABLE mfa_recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- HMAC-SHA256 of the normalised code, hex.
    hash    TEXT    NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, hash)
) STRICT;
