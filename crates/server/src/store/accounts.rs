//! The operations on accounts and what guards them: users and their passwords, sessions and
//! refresh credentials, second factors, outbox keys, the login throttle's attempts, a
//! person's audit trail (one table function each, on the pool or in a [`Tx`]).

use super::model::*;
use super::{Store, Tx, postgres, sqlite};
use crate::audit::Record;
use crate::domain::{Email, SessionId};
use colloque_protocol::{Role, SessionHandle, Timestamp, UserId, UserProfile};

operations! {
    /// Creates an account; a unique violation on `users.email` if the email is taken.
    fn insert_user(user: &NewUser<'_>, now: Timestamp) -> UserId = users::insert;
    /// What login needs to know about the account of `email`.
    fn credentials_by_email(email: &Email) -> Option<Credentials> = users::credentials_by_email;
    /// What login needs to know about account `id`, and its email.
    fn credentials_by_id(id: UserId) -> Option<(Credentials, String)> = users::credentials_by_id;
    /// The id and role of the account of `email`.
    fn id_and_role_by_email(email: &Email) -> Option<(UserId, Role)> = users::id_and_role_by_email;
    /// A user's public profile.
    fn profile(id: UserId) -> Option<UserProfile> = users::profile;
    /// How many accounts exist.
    fn count_users() -> i64 = users::count;
    /// Disables or enables an account; false if there is no such user.
    fn set_disabled(id: UserId, disabled: bool) -> bool = users::set_disabled;

    /// A user's outbox key, if one was made.
    fn outbox_key(user: UserId) -> Option<String> = outbox_keys::find;
    /// Gives a user this outbox key unless they have one.
    fn insert_outbox_key(user: UserId, key: &str, now: Timestamp) -> () = outbox_keys::insert_if_absent;
    /// Replaces a user's outbox key (a rotation).
    fn replace_outbox_key(user: UserId, key: &str, now: Timestamp) -> () = outbox_keys::replace;

    /// The email and password hash of an account.
    fn email_and_password_hash(id: UserId) -> Option<(String, String)> = users::email_and_hash;
    /// Replaces an account's password hash.
    fn set_password_hash(id: UserId, password_hash: &str) -> () = users::set_password_hash;

    /// Records a new session, named `handle`.
    fn insert_session(session: &NewSession<'_>, handle: &SessionHandle, now: Timestamp) -> () = sessions::insert;
    /// The user of a live session.
    fn active_user(id: &SessionId, user: UserId, now: Timestamp, idle_cutoff: Timestamp) -> Option<ActiveUser> = sessions::active_user;
    /// A live session that a refresh may renew.
    fn refreshable_session(id: &SessionId, now: Timestamp, idle_cutoff: Timestamp) -> Option<RefreshableSession> = sessions::refreshable;
    /// A refresh went through (`bump`: 1 to move to the next generation, 0 to stay); returns
    /// the generation to issue the access token for.
    fn session_refreshed(id: &SessionId, now: Timestamp, ip: Option<&str>, bump: i64) -> i64 = sessions::refreshed;
    /// A user's live sessions, latest activity first.
    fn live_sessions(user: UserId, now: Timestamp, idle_cutoff: Timestamp) -> Vec<SessionRow> = sessions::live_of_user;
    /// Ends a user's session named `handle` if it is live; returns its id.
    fn revoke_session_by_handle(user: UserId, handle: &SessionHandle, now: Timestamp) -> Option<SessionId> = sessions::revoke_by_handle;
    /// Ends every session of a user but one; returns how many.
    fn revoke_other_sessions(user: UserId, keep: &SessionId, now: Timestamp) -> u64 = sessions::revoke_others;
    /// Records a current refresh credential (its hash) of a session.
    fn insert_refresh_token(hash: &str, session: &SessionId, now: Timestamp) -> () = refresh_tokens::insert;
    /// The session of a refresh credential (by hash), and when it was replaced.
    fn refresh_token(hash: &str) -> Option<(SessionId, Option<Timestamp>)> = refresh_tokens::find;
    /// Marks a session's current refresh credentials replaced.
    fn replace_refresh_tokens(session: &SessionId, now: Timestamp) -> u64 = refresh_tokens::replace_current;
    /// Ends one session (logout). Idempotent.
    fn revoke_session(id: &SessionId, now: Timestamp) -> () = sessions::revoke;
    /// Ends every session of a user; returns how many.
    fn revoke_all_sessions(user: UserId, now: Timestamp) -> u64 = sessions::revoke_all_for_user;
    /// Ends a user's least recently used sessions beyond their `keep` latest; returns how many.
    fn revoke_sessions_beyond(user: UserId, keep: usize, now: Timestamp) -> u64 = sessions::revoke_beyond;
    /// Deletes the sessions that ended more than a day ago.
    fn delete_expired_sessions(now: Timestamp, idle_cutoff: Timestamp) -> u64 = sessions::delete_expired;

    /// The TOTP authenticator of a user, pending or enabled.
    fn mfa_totp(user: UserId) -> Option<MfaTotp> = mfa::totp;
    /// Records a pending authenticator, replacing a pending one; false if one is enabled.
    fn put_pending_totp(user: UserId, secret: &str, now: Timestamp) -> bool = mfa::put_pending;
    /// Enables the pending authenticator whose (encrypted) secret is `secret`, at time step `step`.
    fn enable_totp(user: UserId, secret: &str, step: i64, now: Timestamp) -> bool = mfa::enable;
    /// Spends a time step of an enabled authenticator; false if it, or a later one, was used.
    fn use_totp_step(user: UserId, step: i64) -> bool = mfa::use_step;
    /// Deletes a user's authenticator; false if there was none.
    fn delete_totp(user: UserId) -> bool = mfa::delete_totp;
    /// Deletes a user's recovery codes; returns how many.
    fn delete_recovery_codes(user: UserId) -> u64 = mfa::delete_recovery_codes;
    /// Records one recovery code (its keyed hash).
    fn insert_recovery_code(user: UserId, hash: &str) -> () = mfa::insert_recovery_code;
    /// Consumes an unused recovery code; false if there is none with this hash.
    fn use_recovery_code(user: UserId, hash: &str, now: Timestamp) -> bool = mfa::use_recovery_code;
    /// Whether a user has an unused recovery code of this hash.
    fn recovery_code_unused(user: UserId, hash: &str) -> bool = mfa::recovery_code_unused;
    /// How many unused recovery codes a user has.
    fn recovery_codes_left(user: UserId) -> i64 = mfa::recovery_codes_left;

    /// A person's audit trail since `since`, oldest first (by user id and email pseudonym).
    fn audit_trail(user: Option<UserId>, email_hash: &str, since: Timestamp) -> Vec<Record> = audit::export;

    /// What the login throttle's three windows hold for an attempt on (account, address). In a
    /// [`Tx`] after [`Tx::lock_login_keys`] for a check that cannot be raced.
    fn login_counts(account: &str, address: &str, cutoffs: &LoginCutoffs) -> LoginCounts = login_attempts::counts;
    /// Records a login attempt in flight.
    fn insert_login_attempt(account: &str, address: &str, now: Timestamp) -> LoginAttemptId = login_attempts::insert;
    /// Settles a login attempt still in flight.
    fn settle_login_attempt(id: LoginAttemptId, outcome: LoginOutcome, now: Timestamp) -> () = login_attempts::settle;
    /// Forgets a login attempt still in flight (as if never made).
    fn release_login_attempt(id: LoginAttemptId) -> () = login_attempts::release;
    /// The right password from (account, address): that pair's failures stop counting for it.
    fn forgive_login_failures(account: &str, address: &str, stale_before: Timestamp) -> u64 = login_attempts::forgive;
    /// The successful logins of an account since `since`: how many, and the oldest's time.
    fn login_successes(account: &str, since: Timestamp) -> (i64, Option<Timestamp>) = login_attempts::successes;
    /// Deletes the login attempts older than `before`; returns how many.
    fn delete_login_attempts_before(before: Timestamp) -> u64 = login_attempts::delete_before;
}
