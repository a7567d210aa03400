//! The audit trail (HIPAA "audit controls"): an append-only table of who did what, when and
//! from where — logins (successful, failed, throttled), refreshes (and reused refresh
//! credentials), logouts, sessions ended from the sessions page, password changes, revocations,
//! every read of health data, every refused access to an object, every refused WebSocket frame
//! and foreign `Origin`, and the administrators' changes.
//!
//! It never holds message bodies, passwords or tokens. A failed login for an email that has no
//! account stores a SHA-256 of the normalised email (a pseudonym that lets `audit-export` find
//! it), not the email.
//!
//! What makes it hard to flood, skip or change (docs/security.md, "Audit trail"):
//! - **refusals are counted, not written one by one** ([`refusals`]): one row per (address,
//!   action, minute) — and authenticated user for refusals of a logged-in user — with its
//!   number of occurrences, appended when the minute closes and at shutdown. Traffic without a
//!   valid token can therefore never write a row per request;
//! - **a read of health data is recorded before it is answered, or not answered**
//!   ([`Auditor::read`]: 503 when its row cannot be written);
//! - **rows are hash-chained** ([`chain`]): each carries the SHA-256 of its own fields and of the
//!   previous row's hash; appends are serialised (SQLite's write lock, a row lock on
//!   PostgreSQL's one-row `audit_chain`), `audit-verify` walks the chain and names the first
//!   broken link, and the retention purge records the anchor it leaves behind;
//! - **append-only in the database**: triggers refuse updates, and deletes other than the
//!   purge's, whose cut-off must be at least [`MIN_RETENTION_DAYS`] old.

mod chain;
mod recorder;
pub mod refusals;
mod source;

pub use chain::{Broken, GENESIS, Row, StoredRow, Verification, Walk};
pub use recorder::Auditor;
pub use source::{Source, Transport};

use colloque_protocol::{ConversationId, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The shortest retention allowed: 180 days. CNIL recommends keeping access traces of health
/// data for 6 months to 1 year; production refuses to start with less, and the purge refuses a
/// more recent cut-off (in the database too: migrations `0006`/`0005`, which repeat the
/// number).
pub const MIN_RETENTION_DAYS: u32 = 180;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A successful login.
    Login,
    /// A failed login (unknown email, wrong password, disabled account).
    LoginFailed,
    /// A login refused by throttling, before the password was checked.
    LoginThrottled,
    /// A token renewed (its refresh credential rotated, or a sibling given to a concurrent
    /// refresh: detail `concurrent`).
    Refresh,
    /// A refresh credential replaced earlier came back: someone else held a copy. The session
    /// was revoked.
    RefreshReused,
    /// A session ended by its user from the sessions page (detail: `this_session` when it was
    /// the caller's own).
    SessionEnded,
    /// The password changed (detail: how many other sessions ended).
    PasswordChanged,
    /// A password change refused: the current password given was wrong (a counted refusal,
    /// like a failed login).
    PasswordChangeFailed,
    /// A session ended by its user.
    Logout,
    /// Open sockets closed because their session ended (logout elsewhere, disabled, idle).
    SessionRevoked,
    /// An account disabled by an administrator (every session revoked).
    AccountDisabled,
    /// An account enabled again.
    AccountEnabled,
    /// An account's outbox key replaced by an administrator.
    OutboxKeyRotated,
    /// The conversation list read.
    ConversationsListed,
    /// One conversation's summary read.
    ConversationOpened,
    /// A page of a conversation's messages read.
    HistoryRead,
    /// A 403 or 404 on an object (a conversation the caller does not take part in...).
    AccessDenied,
    /// A WebSocket frame refused for authorization (not found, forbidden, rate limited).
    WsFrameRefused,
    /// A request or socket refused for its `Origin`.
    OriginRefused,
    /// The trail exported by an administrator.
    AuditExported,
    /// Accounts and care links imported in bulk by an administrator.
    UsersImported,
    /// The caller's appointments read.
    AppointmentsListed,
    /// A patient's care team read.
    CareTeamListed,
    /// A doctor's patient list read.
    PatientsListed,
    /// A care relationship ended by an administrator (its open conversation closed).
    CareUnlinked,
    /// The audit chain verified by an administrator.
    AuditVerified,
    /// The right password of an account with MFA: a challenge was given (no session yet).
    MfaChallenged,
    /// A wrong, used or late one-time code (detail: `login`, `disable`), counted like a failed
    /// login.
    MfaFailed,
    /// MFA turned on (an enrolment confirmed; ten new recovery codes made).
    MfaEnabled,
    /// MFA turned off by its user (detail: which kind of code they gave).
    MfaDisabled,
    /// A recovery code used (detail: `login` or `disable`).
    MfaRecoveryCodeUsed,
    /// MFA reset by an administrator (`reset-mfa`): the user must enrol again.
    MfaReset,
    /// A conversation closed by its doctor, with a reason (the reason is in the thread, not
    /// here).
    ConversationClosed,
    /// A closed conversation reopened by its doctor.
    ConversationReopened,
    /// A conversation moved in its doctor's queue (detail: `from→to`).
    TriageChanged,
    /// A doctor changed who may start a conversation with them (detail: the mode and months).
    IntakeChanged,
    /// A doctor blocked a patient (detail: the patient's id).
    PatientBlocked,
    /// A doctor lifted a block (detail: the patient's id).
    PatientUnblocked,
    /// A patient read whether they may write to their doctors.
    IntakeRead,
    /// A patient sent a message past the red-flag screen: the conversation is urgent in the
    /// doctor's queue (recorded in the message's transaction; never the text).
    UrgentSent,
    /// A doctor changed their office hours or reply-time promise (detail: the promise).
    ReplySettingsChanged,
    /// A doctor recorded an absence (detail: its id, days and covering doctor's id).
    AbsenceAdded,
    /// A doctor deleted an absence (detail: its id).
    AbsenceDeleted,
    /// A file uploaded (detail: its sniffed type; never its name nor its content).
    AttachmentUploaded,
    /// An attachment downloaded (detail: its id, and `thumbnail` for its thumbnail).
    AttachmentDownloaded,
    /// A Documents list read (of one conversation, or of all the caller's).
    DocumentsListed,
    /// A user changed their notification choices (detail: e-mail and push on or off).
    NotificationSettingsChanged,
    /// E-mail turned off through the one-click link of an e-mail (RFC 8058).
    EmailUnsubscribed,
    /// A browser subscribed to Web Push (detail: the subscription's id and its push service's
    /// origin; never the endpoint's path nor the keys).
    PushSubscribed,
    /// A browser's push subscription deleted by its user (detail: its id).
    PushUnsubscribed,
    /// A doctor wrote a reply template (detail: its id and whether it is shared; never its
    /// title nor its text).
    TemplateCreated,
    /// A doctor changed one of their templates (detail: its id and whether it is shared).
    TemplateUpdated,
    /// A doctor deleted one of their templates (detail: its id).
    TemplateDeleted,
    /// A doctor sent a message from a template (detail: the template's id; recorded in the
    /// message's transaction; never the text).
    TemplateUsed,
    /// A user turned the typing indicator on or off (detail: `on` or `off`).
    TypingSettingsChanged,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::LoginThrottled => "login_throttled",
            Action::Refresh => "refresh",
            Action::RefreshReused => "refresh_reused",
            Action::SessionEnded => "session_ended",
            Action::PasswordChanged => "password_changed",
            Action::PasswordChangeFailed => "password_change_failed",
            Action::Logout => "logout",
            Action::SessionRevoked => "session_revoked",
            Action::AccountDisabled => "account_disabled",
            Action::AccountEnabled => "account_enabled",
            Action::OutboxKeyRotated => "outbox_key_rotated",
            Action::ConversationsListed => "conversations_listed",
            Action::ConversationOpened => "conversation_opened",
            Action::HistoryRead => "history_read",
            Action::AccessDenied => "access_denied",
            Action::WsFrameRefused => "ws_frame_refused",
            Action::OriginRefused => "origin_refused",
            Action::AuditExported => "audit_exported",
            Action::UsersImported => "users_imported",
            Action::AppointmentsListed => "appointments_listed",
            Action::CareTeamListed => "care_team_listed",
            Action::PatientsListed => "patients_listed",
            Action::CareUnlinked => "care_unlinked",
            Action::AuditVerified => "audit_verified",
            Action::MfaChallenged => "mfa_challenged",
            Action::MfaFailed => "mfa_failed",
            Action::MfaEnabled => "mfa_enabled",
            Action::MfaDisabled => "mfa_disabled",
            Action::MfaRecoveryCodeUsed => "mfa_recovery_code_used",
            Action::MfaReset => "mfa_reset",
            Action::ConversationClosed => "conversation_closed",
            Action::ConversationReopened => "conversation_reopened",
            Action::TriageChanged => "triage_changed",
            Action::IntakeChanged => "intake_changed",
            Action::PatientBlocked => "patient_blocked",
            Action::PatientUnblocked => "patient_unblocked",
            Action::IntakeRead => "intake_read",
            Action::UrgentSent => "urgent_sent",
            Action::ReplySettingsChanged => "reply_settings_changed",
            Action::AbsenceAdded => "absence_added",
            Action::AbsenceDeleted => "absence_deleted",
            Action::AttachmentUploaded => "attachment_uploaded",
            Action::AttachmentDownloaded => "attachment_downloaded",
            Action::DocumentsListed => "documents_listed",
            Action::NotificationSettingsChanged => "notification_settings_changed",
            Action::EmailUnsubscribed => "email_unsubscribed",
            Action::PushSubscribed => "push_subscribed",
            Action::PushUnsubscribed => "push_unsubscribed",
            Action::TemplateCreated => "template_created",
            Action::TemplateUpdated => "template_updated",
            Action::TemplateDeleted => "template_deleted",
            Action::TemplateUsed => "template_used",
            Action::TypingSettingsChanged => "typing_settings_changed",
        }
    }

    /// A refusal: counted per (address, action, minute) and written once per minute with its
    /// count ([`refusals`]), never one row per request. Failed and throttled logins, foreign
    /// origins (no valid token at all), and the objects and frames refused to a logged-in user.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Action::LoginFailed
                | Action::LoginThrottled
                | Action::OriginRefused
                | Action::AccessDenied
                | Action::WsFrameRefused
                | Action::PasswordChangeFailed
                | Action::MfaFailed
        )
    }

    /// A refusal made to an authenticated user (a valid session): that user is part of its
    /// count's key. The other refusals' user, if any, is only what the request claimed (the
    /// account of a failed login), kept when every refusal of the minute agrees on it.
    pub fn is_refusal_of_a_session(self) -> bool {
        matches!(
            self,
            Action::AccessDenied | Action::WsFrameRefused | Action::PasswordChangeFailed
        )
    }
}

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What.
    pub action: Action,
    /// Who, when known.
    pub user_id: Option<UserId>,
    /// A pseudonymised email, for failed logins of unknown accounts.
    pub email_hash: Option<String>,
    /// Which conversation, if any.
    pub conversation_id: Option<ConversationId>,
    /// A short machine-written detail: an error code, a refused origin. Never user text.
    pub detail: Option<String>,
}

impl Entry {
    /// `action` by `user`.
    pub fn new(action: Action, user: Option<UserId>) -> Self {
        Self {
            action,
            user_id: user,
            email_hash: None,
            conversation_id: None,
            detail: None,
        }
    }

    /// About this conversation.
    pub fn conversation(mut self, id: ConversationId) -> Self {
        self.conversation_id = Some(id);
        self
    }

    /// With this detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// With this pseudonymised email.
    pub fn email_hash(mut self, hash: String) -> Self {
        self.email_hash = Some(hash);
        self
    }
}

/// SHA-256 (hex) of the normalised email, domain-separated. A pseudonym, not anonymisation:
/// someone holding the trail and guessing an email can confirm the guess, so the trail is
/// protected like the database it lives in.
pub fn email_hash(email: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"colloque-audit-email\0");
    hasher.update(email.trim().to_lowercase().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// One exported entry (a JSON line of `audit-export`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct Record {
    /// Row id (increasing).
    pub id: i64,
    /// Milliseconds since the epoch, UTC.
    pub at: i64,
    /// The user, when known.
    pub user_id: Option<i64>,
    /// Pseudonymised email, for failed logins of unknown accounts.
    pub email_hash: Option<String>,
    /// What.
    pub action: String,
    /// Which conversation.
    pub conversation_id: Option<i64>,
    /// Detail.
    pub detail: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// rest, ws, cli or system.
    pub transport: String,
    /// How many times it happened: more than one for refusals counted over a minute.
    pub occurrences: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_pseudonym_ignores_case_and_spaces_and_is_not_the_email() {
        let hash = email_hash(" Emma.Petit@colloque.test ");
        assert_eq!(hash, email_hash("emma.petit@colloque.test"));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains("emma"));
    }
}
