-- Login attempts, the login throttle's state (auth::throttle). In the database rather than in
-- each process's memory, so that with several instances on one database the limits hold over
-- all of them instead of multiplying by their number.
--
-- One row per attempt that the throttle let through to a password check. Refused attempts are
-- not recorded (they count against nothing), and released ones are deleted (as if never made):
-- those left unchecked because the hashing queue was full, and right passwords refused by the
-- limit on successful logins. Rows older than the longest window are deleted by a background
-- sweep.
CREATE TABLE login_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- auth::account_key: the email as typed, trimmed, lower-cased, at most 254 characters.
    account_key TEXT    NOT NULL,
    -- auth::address_key: the client's address (an IPv6 one by its /64), '' when unknown.
    address_key TEXT    NOT NULL,
    -- When it began while in flight; when it ended once settled.
    at          INTEGER NOT NULL,
    -- in_flight: its password is being checked (for too long: counted as failed, its
    -- instance died); failed; forgiven: failed, then the same (account, address) gave the right
    -- password, so it no longer counts for that pair but still for the account and the
    -- address; succeeded.
    outcome     TEXT    NOT NULL CHECK (outcome IN ('in_flight', 'failed', 'forgiven', 'succeeded'))
) STRICT;
-- The (account, address) and account windows, and the successful logins per account.
CREATE INDEX login_attempts_by_account ON login_attempts (account_key, at);
-- The address window.
CREATE INDEX login_attempts_by_address ON login_attempts (address_key, at);
-- The sweep of old rows.
CREATE INDEX login_attempts_by_time ON login_attempts (at);
