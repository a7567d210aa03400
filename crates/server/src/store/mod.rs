//! The storage boundary. Everything the server keeps goes through [`Store`] (one operation,
//! its own short transaction) or a [`Tx`] (several operations that commit together); callers
//! never see a connection type nor SQL.
//!
//! Two backends, chosen at start by `--database-url`:
//! - [`sqlite`]: one file in the data directory, the zero-setup default;
//! - [`postgres`]: the source of truth that several server instances share.
//!
//! Both run the same statements (`tables/`, compiled once per backend) and keep their own
//! migrations (`migrations/sqlite/`, `migrations/postgres/`; a test compares the two schemas).
//! Where the dialects or the concurrency models differ (taking the write lock, locking rows,
//! the batched send), each backend has its own function with the same name and meaning.

mod data_dir;
pub mod model;
// Each file of `tables/` is compiled once per backend, on purpose (see the module docs).
#[allow(clippy::duplicate_mod)]
pub mod postgres;
#[allow(clippy::duplicate_mod)]
pub mod sqlite;

pub use data_dir::{check_data_dir_private, create_data_dir};
pub use model::*;

use crate::audit::Record;
use crate::care::{IntakeRule, Triage};
use crate::domain::{Email, SessionId};
use colloque_protocol::{
    AbsenceId, Appointment, AppointmentId, AttachmentId, ConversationId, ConversationSummary,
    Document, IntakeMode, Message, MessageId, ReplyTemplate, Role, Seq, SessionHandle, TemplateId,
    Timestamp, Topic, UserId, UserProfile,
};
use std::path::{Path, PathBuf};

/// Where the data lives, as given by `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://<path>`: a file.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: a server (user, password, host, port, database and
    /// options as libpq reads them).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a `--database-url`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            anyhow::ensure!(!path.is_empty(), "the SQLite URL names no file: {url}");
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        anyhow::bail!(
            "--database-url must start with sqlite:// or postgres:// (got {:?})",
            url.split(':').next().unwrap_or_default()
        )
    }

    /// The default: `colloque.db` in the data directory.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("colloque.db"))
    }

    /// `sqlite` or `postgres`, for logs and the health check (never the URL: it may hold a
    /// password).
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub enum Store {
    /// One SQLite file.
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL server.
    Postgres(sqlx::PgPool),
}

/// A transaction that writes, from [`Store::begin_write`]. Dropped without [`Tx::commit`], it
/// rolls back.
pub enum Tx {
    /// On SQLite, holding the write lock.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$b` naming the backend module of `$store` and `$db` its pool.
macro_rules! on_pool {
    ($store:expr, |$db:ident| $body:expr) => {
        match $store {
            Store::Sqlite($db) => $body,
            Store::Postgres($db) => $body,
        }
    };
    ($store:expr, |$db:ident, $b:ident| $body:expr) => {
        match $store {
            Store::Sqlite($db) => {
                use sqlite as $b;
                $body
            }
            Store::Postgres($db) => {
                use postgres as $b;
                $body
            }
        }
    };
}

/// Runs `$body` with `$b` naming the backend module of `$tx` and `$conn` its connection.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident, $b:ident| $body:expr) => {
        match $tx {
            Tx::Sqlite(tx) => {
                use sqlite as $b;
                let $conn = &mut **tx;
                $body
            }
            Tx::Postgres(tx) => {
                use postgres as $b;
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// Declares operations that run alike on the pool ([`Store`], each in its own implicit
/// transaction) and inside a [`Tx`], as calls to the same table function of either backend.
macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $module:ident::$function:ident;
    )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, sqlx::Error> {
                    on_pool!(self, |db, b| b::$module::$function(db, $($arg),*).await)
                }
            )*
        }
        impl Tx {
            $(
                $(#[$doc])*
                pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, sqlx::Error> {
                    on_tx!(self, |conn, b| b::$module::$function(conn, $($arg),*).await)
                }
            )*
        }
    };
}

// The audit trail's appends, purge and verification (declared after the macros it uses).
mod audit_trail;
pub use audit_trail::PurgeError;
// Web Push's subscriptions and claims (declared after the macros it uses).
pub mod push;
pub use push::{PushCandidate, StoredPushSubscription};

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

    /// Links a doctor and a patient; false if they already were.
    fn link(doctor: UserId, patient: UserId, now: Timestamp) -> bool = care::link;
    /// Ends the care relationship of a pair; false if there was none.
    fn unlink(doctor: UserId, patient: UserId) -> bool = care::unlink;
    /// Whether `doctor` follows `patient` (both accounts enabled, roles as expected).
    fn is_linked(doctor: UserId, patient: UserId) -> bool = care::is_linked;
    /// A patient's doctors, by name.
    fn doctors_of(patient: UserId) -> Vec<UserProfile> = care::doctors_of;
    /// A doctor's patients, by name.
    fn patients_of(doctor: UserId) -> Vec<UserProfile> = care::patients_of;

    /// Stores an appointment.
    fn insert_appointment(appointment: &NewAppointment<'_>) -> AppointmentId = appointments::insert;
    /// A user's appointments, by start.
    fn appointments_for(user: UserId, role: Role) -> Vec<Appointment> = appointments::for_user;

    /// The conversation `id` if `user` takes part in it.
    fn conversation_for(id: ConversationId, user: UserId) -> Option<ConversationRef> = conversations::for_participant;
    /// The open conversation of a patient–doctor pair.
    fn find_open_between(patient: UserId, doctor: UserId) -> Option<ConversationId> = conversations::find_open_between;
    /// Creates an open conversation about `topic`, at `triage`'s place in the queue.
    fn insert_conversation(patient: UserId, doctor: UserId, subject: &str, topic: Topic, triage: Triage) -> ConversationId = conversations::insert;
    /// Puts a conversation at a place in the queue (closed exactly when done).
    fn set_conversation_place(id: ConversationId, triage: Triage) -> () = conversations::set_place;
    /// Closes the open conversation of a patient–doctor pair, if any, at `now`; returns it.
    fn close_open_between(patient: UserId, doctor: UserId, now: Timestamp) -> Option<ConversationId> = conversations::close_open_between;

    /// A doctor's intake setting (the default if never set).
    fn intake_rule(doctor: UserId) -> IntakeRule = intake::rule;
    /// Replaces a doctor's intake setting.
    fn set_intake_rule(doctor: UserId, mode: IntakeMode, months: u32, now: Timestamp) -> () = intake::set_rule;
    /// The patients a doctor blocked.
    fn blocked_by(doctor: UserId) -> Vec<UserId> = intake::blocked_by;
    /// Blocks a patient; false if already blocked.
    fn block_patient(doctor: UserId, patient: UserId, now: Timestamp) -> bool = intake::block;
    /// Lifts a block; false if there was none.
    fn unblock_patient(doctor: UserId, patient: UserId) -> bool = intake::unblock;
    /// Whether the doctor blocked the patient, and whether they have an appointment since `since`.
    fn blocked_and_seen(doctor: UserId, patient: UserId, since: Timestamp) -> (bool, bool) = intake::blocked_and_seen;
    /// A doctor's promise and office hours, if set.
    fn reply_settings(doctor: UserId) -> Option<StoredReplySettings> = hours::settings;
    /// Replaces a doctor's promise and office hours.
    fn set_reply_settings(doctor: UserId, working_days: Option<u32>, hours: &str, now: Timestamp) -> () = hours::set_settings;
    /// A doctor's absences ending on `day` or later.
    fn absences_until(doctor: UserId, day: &str) -> Vec<AbsenceRow> = hours::absences_until;
    /// Records an absence.
    fn insert_absence(doctor: UserId, from: &str, to: &str, covering: Option<UserId>, now: Timestamp) -> AbsenceId = hours::insert_absence;
    /// Deletes one of a doctor's absences; false if there was none.
    fn delete_absence(doctor: UserId, id: AbsenceId) -> bool = hours::delete_absence;
    /// The enabled doctors who share a patient with `doctor`.
    fn colleagues(doctor: UserId) -> Vec<UserProfile> = hours::colleagues;
    /// Notes a conversation's automatic reply of `day`; false if it had one.
    fn claim_auto_reply(id: ConversationId, day: &str) -> bool = hours::claim_auto_reply;
    /// The reply templates `doctor` may use (their own and the shared ones), by title.
    fn templates_visible_to(doctor: UserId) -> Vec<ReplyTemplate> = templates::visible_to;
    /// A reply template, whoever owns it.
    fn template(id: TemplateId) -> Option<ReplyTemplate> = templates::by_id;
    /// How many templates a doctor owns.
    fn count_templates(doctor: UserId) -> i64 = templates::count_owned;
    /// Stores a doctor's new template.
    fn insert_template(doctor: UserId, template: &NewTemplate<'_>, now: Timestamp) -> TemplateId = templates::insert;
    /// Replaces a doctor's template; false if they own none with this id.
    fn update_template(doctor: UserId, id: TemplateId, template: &NewTemplate<'_>, now: Timestamp) -> bool = templates::update;
    /// Deletes a doctor's template; false if they own none with this id.
    fn delete_template(doctor: UserId, id: TemplateId) -> bool = templates::delete;
    /// The template a message was sent from, if any.
    fn template_of_message(id: MessageId) -> Option<TemplateId> = templates::of_message;
    /// The head of each conversation of `user`.
    fn conversation_heads(user: UserId) -> Vec<(ConversationId, Seq)> = conversations::heads_of_user;
    /// The heads of every conversation (with messages) of these users.
    fn heads_of_users(users: &[UserId]) -> Vec<Head> = conversations::heads_of_users;
    /// The heads of the conversations active since `since`.
    fn heads_active_since(since: Timestamp) -> Vec<Head> = conversations::heads_active_since;
    /// The conversations of `viewer` as they see them (or only `only`), latest activity first.
    fn summaries(viewer: UserId, role: Role, only: Option<ConversationId>) -> Vec<ConversationSummary> = conversations::summaries;

    /// A user's notification choices, if they made any.
    fn notification_settings(user: UserId) -> Option<StoredNotificationSettings> = notifications::settings;
    /// Replaces a user's notification choices.
    fn set_notification_settings(user: UserId, settings: &StoredNotificationSettings, now: Timestamp) -> () = notifications::set_settings;
    /// Turns a user's e-mail off; false if there is no such user.
    fn email_off(user: UserId, quiet: (u16, u16), now: Timestamp) -> bool = notifications::email_off;
    /// Who may have something to be told by e-mail (patients or doctors).
    fn notice_candidates(since: Timestamp, patients: bool) -> Vec<NoticeCandidate> = notifications::candidates;
    /// Claims an e-mail for a participant of a conversation; false if it was taken.
    fn claim_email_notice(user: UserId, conversation: ConversationId, previous: Timestamp, notified_seq: Seq, reminded_key: i64, now: Timestamp) -> bool = notifications::claim;

    /// Whether a user's writing is shown to the other participant, if they chose.
    fn share_typing(user: UserId) -> Option<bool> = typing::share;
    /// Replaces a user's typing indicator choice.
    fn set_share_typing(user: UserId, share: bool, now: Timestamp) -> () = typing::set_share;

    /// Whether a content of this hash is stored already.
    fn attachment_blob_exists(sha256: &str) -> bool = attachments::blob_exists;
    /// Stores a content unless the same bytes are stored (content-addressed).
    fn insert_attachment_blob(sha256: &str, content: &[u8], thumbnail: Option<&[u8]>, now: Timestamp) -> () = attachments::insert_blob;
    /// Records an upload.
    fn insert_attachment(attachment: &NewAttachment<'_>) -> () = attachments::insert;
    /// The bytes a user's uploads take.
    fn attachment_bytes_used(owner: UserId) -> i64 = attachments::used_bytes;
    /// The attachment `id` if `user` may fetch it.
    fn visible_attachment(id: AttachmentId, user: UserId) -> Option<AttachmentRow> = attachments::visible;
    /// A stored content (or its thumbnail).
    fn attachment_content(sha256: &str, thumbnail: bool) -> Option<Vec<u8>> = attachments::content;
    /// Attachments sent in the user's conversations (or one), newest first.
    fn documents(user: UserId, conversation: Option<ConversationId>, before: i64, limit: u32) -> (Vec<Document>, bool) = attachments::documents;

    /// How far `user` has read and received `conversation`.
    fn read_cursor(user: UserId, conversation: ConversationId) -> Cursors = read_cursors::get;
    /// Moves a read cursor forward at `at` (never back); returns the cursors.
    fn advance_read_cursor(user: UserId, conversation: ConversationId, seq: Seq, at: Timestamp) -> Cursors = read_cursors::advance;
    /// Moves a delivery cursor forward (never back); returns the cursors.
    fn advance_delivered(user: UserId, conversation: ConversationId, seq: Seq) -> Cursors = read_cursors::advance_delivered;

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

impl Store {
    /// Opens the database (creating a SQLite file if needed) and applies pending migrations.
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        Ok(match url {
            DatabaseUrl::Sqlite(path) => Self::Sqlite(sqlite::connect(path).await?),
            DatabaseUrl::Postgres(url) => Self::Postgres(postgres::connect(url, 16).await?),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Starts a transaction that writes (see each backend's `begin_write`).
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(sqlite::begin_write(pool).await?),
            Self::Postgres(pool) => Tx::Postgres(postgres::begin_write(pool).await?),
        })
    }

    /// Answers when the database does (the health check).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self, |db| {
            sqlx::query("SELECT 1").execute(db).await?;
        });
        Ok(())
    }

    /// Connections open and idle in the pool (metrics).
    pub fn pool_use(&self) -> (u32, usize) {
        on_pool!(self, |db| (db.size(), db.num_idle()))
    }

    /// Closes every connection (shutdown).
    pub async fn close(&self) {
        on_pool!(self, |db| db.close().await)
    }

    /// A page of a conversation's history, ascending, and whether more exist that way; each
    /// message with its attachments.
    pub async fn messages_page(
        &self,
        conversation: ConversationId,
        page: Page,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), sqlx::Error> {
        on_pool!(self, |db, b| {
            let mut conn = db.acquire().await?;
            let (mut messages, more) =
                b::messages::page(&mut *conn, conversation, page, limit).await?;
            let ids: Vec<MessageId> = messages.iter().map(|message| message.id).collect();
            let rows = b::attachments::of_messages(&mut conn, &ids).await?;
            attach(&mut messages, rows);
            Ok((messages, more))
        })
    }

    /// Deletes the uploads never sent and made before `cutoff`, and the contents nothing
    /// refers to any more, in one transaction; returns how many uploads.
    pub async fn delete_unsent_attachments(&self, cutoff: Timestamp) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let deleted = on_tx!(&mut tx, |conn, b| b::attachments::delete_unsent_before(
            conn, cutoff
        )
        .await)?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Writes buffered session activity times, in one transaction.
    pub async fn touch_sessions(&self, touches: &[(String, Timestamp)]) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        on_tx!(&mut tx, |conn, b| b::sessions::touch_many(conn, touches)
            .await)?;
        tx.commit().await
    }

    /// The live ones among sessions `ids`, with their generations.
    pub async fn live_generations(
        &self,
        ids: &[String],
        now: Timestamp,
        idle_cutoff: Timestamp,
    ) -> Result<Vec<LiveGeneration>, sqlx::Error> {
        on_pool!(self, |db, b| {
            let mut conn = db.acquire().await?;
            b::sessions::live_among(&mut conn, ids, now, idle_cutoff).await
        })
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Rolls back now, releasing the transaction's locks before it returns (a dropped
    /// transaction is rolled back too, but later, when the pool takes its connection back).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }

    /// The [`SendContext`] of each send of a batch, same order as `keys`; locks the
    /// conversations first where the backend needs it (PostgreSQL).
    pub async fn send_contexts(
        &mut self,
        keys: &[SendKey],
    ) -> Result<Vec<Option<SendContext>>, sqlx::Error> {
        on_tx!(self, |conn, b| b::messages::send_contexts(conn, keys).await)
    }

    /// Stores new messages, moves the conversations' heads and the senders' read cursors;
    /// returns the ids in the order of `messages`.
    pub async fn append_batch(
        &mut self,
        messages: &[NewMessage<'_>],
        heads: &[HeadUpdate],
        cursors: &[(UserId, ConversationId, Seq, Timestamp)],
    ) -> Result<Vec<MessageId>, sqlx::Error> {
        on_tx!(self, |conn, b| b::append_batch(
            conn, messages, heads, cursors
        )
        .await)
    }

    /// The attachments of these ids (any owner, sent or not), for a send's checks.
    pub async fn attachments_by_ids(
        &mut self,
        ids: &[AttachmentId],
    ) -> Result<Vec<AttachmentRow>, sqlx::Error> {
        on_tx!(self, |conn, b| b::attachments::by_ids(conn, ids).await)
    }

    /// Holds a doctor's templates until the transaction ends, where the backend needs it
    /// (PostgreSQL), so that their count and a new one are decided one writer at a time.
    pub async fn lock_templates_of(&mut self, doctor: UserId) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_templates_of(conn, doctor).await)
    }

    /// Who owns each of these templates and whether it is shared, for a send's checks.
    pub async fn template_owners(
        &mut self,
        ids: &[TemplateId],
    ) -> Result<Vec<TemplateOwner>, sqlx::Error> {
        on_tx!(self, |conn, b| b::templates::owners(conn, ids).await)
    }

    /// Links uploads to the message they were sent with.
    pub async fn link_attachments(
        &mut self,
        ids: &[AttachmentId],
        message: MessageId,
        conversation: ConversationId,
    ) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::attachments::link(
            conn,
            ids,
            message,
            conversation
        )
        .await)
    }

    /// Fills in the attachments of these messages.
    pub async fn fill_attachments(&mut self, messages: &mut [Message]) -> Result<(), sqlx::Error> {
        let ids: Vec<MessageId> = messages.iter().map(|message| message.id).collect();
        let rows = on_tx!(self, |conn, b| b::attachments::of_messages(conn, &ids)
            .await)?;
        attach(messages, rows);
        Ok(())
    }

    /// Holds a login attempt's account and address until the transaction ends, so that the
    /// attempts on either, on every instance, are counted and recorded one after the other
    /// (SQLite: the write lock already does; PostgreSQL: advisory locks).
    pub async fn lock_login_keys(
        &mut self,
        account: &str,
        address: &str,
    ) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_login_keys(conn, account, address)
            .await)
    }

    /// Holds session `id` until the transaction ends, so that its refreshes, on every instance,
    /// are judged one after the other (SQLite: the write lock already does; PostgreSQL: its
    /// row locked).
    pub async fn lock_session(&mut self, id: &SessionId) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_session(conn, id).await)
    }

    /// Locks a conversation's row until the transaction ends, where the backend needs it
    /// (PostgreSQL), so that a change of the conversation and the sends to it are ordered (the
    /// same lock a batch of sends takes before it reads `last_seq`).
    pub async fn lock_conversation(&mut self, id: ConversationId) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_conversations(conn, &[id]).await)
    }

    /// Locks the care relationship of a pair until the transaction ends, where the backend
    /// needs it (PostgreSQL), so that two instances cannot both start its conversation.
    pub async fn lock_care_pair(
        &mut self,
        doctor: UserId,
        patient: UserId,
    ) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_care_pair(conn, doctor, patient)
            .await)
    }
}

/// Puts each attachment row on its message (rows in upload order).
fn attach(messages: &mut [Message], rows: Vec<AttachmentRow>) {
    for row in rows {
        if let Some(message) = messages
            .iter_mut()
            .find(|message| Some(message.id) == row.message)
        {
            message.attachments.push(row.meta);
        }
    }
}
