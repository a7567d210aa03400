//! Administration commands (accounts, care relationships, appointments, the audit trail), run
//! by the CLI against the same database as the server. Safe to run while the server runs
//! (SQLite WAL).

pub mod import;

use crate::audit::{self, Action, Entry, Source, Verification};
use crate::auth::PasswordHasher;
use crate::domain::{Email, Password};
use crate::error::{AppError, ResultExt};
use crate::store::NewAppointment;
use crate::store::NewUser;
use crate::store::Store;
use crate::util::now_ms;
use anyhow::{Context, bail};
use colloque_protocol::{AppointmentId, ConversationId, Role, Timestamp, UserId};
use secrecy::SecretString;

/// Creates an account. The password comes from the caller (the CLI reads it from stdin, never
/// from a flag, which would leave it in the shell history and the process list).
pub async fn add_user(
    pool: &Store,
    passwords: &PasswordHasher,
    role: Role,
    display_name: &str,
    email: &str,
    speciality: Option<&str>,
    password: SecretString,
) -> anyhow::Result<UserId> {
    let email = Email::parse(email)?;
    let display_name = display_name.trim();
    if display_name.is_empty() {
        bail!("the display name must not be empty");
    }
    let speciality = speciality.map(str::trim).filter(|text| !text.is_empty());
    if role == Role::Patient && speciality.is_some() {
        bail!("only doctors have a speciality");
    }
    let password = Password::parse(password)?;
    let hash = passwords.hash(&password).await?;
    let user = NewUser {
        role,
        display_name,
        email: &email,
        speciality,
        password_hash: &hash,
    };
    let id = pool
        .insert_user(&user, now_ms())
        .await
        .on_unique_violation("users.email", || {
            AppError::InvalidInput(format!(
                "an account with email {} already exists",
                email.as_str()
            ))
        })?;
    Ok(id)
}

async fn user_with_role(pool: &Store, email: &str, role: Role) -> anyhow::Result<UserId> {
    let email = Email::parse(email)?;
    match pool.id_and_role_by_email(&email).await? {
        Some((id, found)) if found == role => Ok(id),
        Some(_) => bail!("{} is not a {}", email.as_str(), role.as_str()),
        None => bail!("no account with email {}", email.as_str()),
    }
}

/// Makes `doctor_email` follow `patient_email`. Returns false if that was already the case.
pub async fn link(pool: &Store, doctor_email: &str, patient_email: &str) -> anyhow::Result<bool> {
    let doctor = user_with_role(pool, doctor_email, Role::Doctor).await?;
    let patient = user_with_role(pool, patient_email, Role::Patient).await?;
    Ok(pool.link(doctor, patient, now_ms()).await?)
}

/// Books an appointment between a doctor and one of their patients.
pub async fn add_appointment(
    pool: &Store,
    doctor_email: &str,
    patient_email: &str,
    starts_at: Timestamp,
    duration_minutes: u32,
    location: &str,
    reason: &str,
) -> anyhow::Result<AppointmentId> {
    if !(1..=24 * 60).contains(&duration_minutes) {
        bail!("the duration must be between 1 and 1440 minutes");
    }
    let doctor = user_with_role(pool, doctor_email, Role::Doctor).await?;
    let patient = user_with_role(pool, patient_email, Role::Patient).await?;
    if !pool.is_linked(doctor, patient).await? {
        bail!("this doctor does not follow this patient; run `link` first");
    }
    let appointment = NewAppointment {
        patient,
        doctor,
        starts_at,
        duration_minutes,
        location: location.trim(),
        reason: reason.trim(),
    };
    pool.insert_appointment(&appointment)
        .await
        .context("failed to store the appointment")
}

/// Disables (or re-enables) an account; disabling revokes all its sessions. A running server
/// (this is usually another process) closes the account's open sockets within its
/// revocation-check interval (half a second by default), with an `unauthorized` error frame
/// then close 1008. Recorded in the audit trail, in the same transaction: a change that cannot
/// be recorded is not made. Messages to and from a disabled account are refused from the
/// next send on (`no_care_relationship`).
pub async fn set_disabled(pool: &Store, email: &str, disabled: bool) -> anyhow::Result<UserId> {
    let email = Email::parse(email)?;
    let Some((id, _)) = pool.id_and_role_by_email(&email).await? else {
        bail!("no account with email {}", email.as_str());
    };
    let mut tx = pool.begin_write().await?;
    tx.set_disabled(id, disabled).await?;
    let (action, detail) = if disabled {
        let revoked = tx.revoke_all_sessions(id, now_ms()).await?;
        (
            Action::AccountDisabled,
            format!("{revoked} sessions revoked"),
        )
    } else {
        (Action::AccountEnabled, String::new())
    };
    let entry = Entry::new(action, Some(id)).detail(detail);
    tx.audit(&Source::cli(), &entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces an account's outbox key (`auth::outbox_key`), and records it. What the person's
/// browsers still hold under the old key is dropped unread (the app tells them); their sessions
/// get the new key at their next refresh.
pub async fn rotate_outbox_key(pool: &Store, email: &str) -> anyhow::Result<UserId> {
    let email = Email::parse(email)?;
    let Some((id, _)) = pool.id_and_role_by_email(&email).await? else {
        bail!("no account with email {}", email.as_str());
    };
    let mut tx = pool.begin_write().await?;
    crate::auth::outbox_key::rotate(&mut tx, id, now_ms()).await?;
    tx.audit(
        &Source::cli(),
        &Entry::new(Action::OutboxKeyRotated, Some(id)),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Turns multi-factor authentication off for an account (a doctor who lost both the phone and
/// the recovery codes, or every account after the server secret changed: the TOTP secrets are
/// encrypted under a key derived from it). Their sessions are revoked, so the next login is a
/// password-only one (or, where the deployment requires MFA of doctors, an enrolment). Audited
/// in the same transaction. Returns false if the account had no authenticator.
pub async fn reset_mfa(pool: &Store, email: &str) -> anyhow::Result<(UserId, bool)> {
    let email = Email::parse(email)?;
    let Some((id, _)) = pool.id_and_role_by_email(&email).await? else {
        bail!("no account with email {}", email.as_str());
    };
    let mut tx = pool.begin_write().await?;
    let had = tx.delete_totp(id).await?;
    tx.delete_recovery_codes(id).await?;
    let revoked = tx.revoke_all_sessions(id, now_ms()).await?;
    let entry =
        Entry::new(Action::MfaReset, Some(id)).detail(format!("{revoked} sessions revoked"));
    tx.audit(&Source::cli(), &entry).await?;
    tx.commit().await?;
    Ok((id, had))
}

/// One person's audit trail since `since` (their user id's entries, and the failed logins of
/// their email), oldest first. Works for an email without an account too (failed logins).
/// The export itself is recorded, before anything is returned (or nothing is).
pub async fn audit_export(
    pool: &Store,
    email: &str,
    since: Timestamp,
) -> anyhow::Result<Vec<audit::Record>> {
    let email = Email::parse(email)?;
    let user = pool.id_and_role_by_email(&email).await?.map(|(id, _)| id);
    let records = pool
        .audit_trail(user, &audit::email_hash(email.as_str()), since)
        .await?;
    let mut entry =
        Entry::new(Action::AuditExported, user).detail(format!("{} entries", records.len()));
    if user.is_none() {
        entry = entry.email_hash(audit::email_hash(email.as_str()));
    }
    pool.audit(&Source::cli(), &entry).await?;
    Ok(records)
}

/// What `unlink` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unlinked {
    /// The doctor.
    pub doctor: UserId,
    /// The patient.
    pub patient: UserId,
    /// Whether they were linked.
    pub was_linked: bool,
    /// The pair's open conversation, now closed.
    pub closed: Option<ConversationId>,
}

/// Ends the care relationship of a doctor and a patient and closes their open conversation, in
/// one transaction, recorded in the audit trail (one entry for each of the two, so that either
/// one's export shows it). From then on neither can write to the other (every send re-checks
/// the relationship); the closed conversation stays readable. On PostgreSQL the pair is
/// locked first, as when a conversation is started, so the two cannot interleave.
pub async fn unlink(
    pool: &Store,
    doctor_email: &str,
    patient_email: &str,
) -> anyhow::Result<Unlinked> {
    let doctor = user_with_role(pool, doctor_email, Role::Doctor).await?;
    let patient = user_with_role(pool, patient_email, Role::Patient).await?;
    let mut tx = pool.begin_write().await?;
    tx.lock_care_pair(doctor, patient).await?;
    let was_linked = tx.unlink(doctor, patient).await?;
    let closed = tx
        .close_open_between(patient, doctor, crate::util::now_ms())
        .await?;
    if was_linked || closed.is_some() {
        let closing = match closed {
            Some(id) => format!("conversation {id} closed"),
            None => "no open conversation".to_owned(),
        };
        for (user, other) in [(doctor, patient), (patient, doctor)] {
            let mut entry = Entry::new(Action::CareUnlinked, Some(user))
                .detail(format!("with {other}; {closing}"));
            entry.conversation_id = closed;
            tx.audit(&Source::cli(), &entry).await?;
        }
    }
    tx.commit().await?;
    Ok(Unlinked {
        doctor,
        patient,
        was_linked,
        closed,
    })
}

/// Walks the whole audit chain (`audit-verify`), and records that it was verified and what was
/// found.
pub async fn audit_verify(pool: &Store) -> anyhow::Result<Verification> {
    let verification = pool
        .verify_audit()
        .await
        .context("failed to read the audit trail")?;
    let detail = match &verification {
        Verification::Intact { rows, .. } => format!("intact, {rows} rows"),
        Verification::Broken(broken) => format!("broken at row {}", broken.id),
    };
    let entry = Entry::new(Action::AuditVerified, None).detail(detail);
    pool.audit(&Source::cli(), &entry).await?;
    Ok(verification)
}
