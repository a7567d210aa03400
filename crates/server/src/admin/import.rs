//! `import-users`: many accounts and care links in one transaction, with one password hash
//! shared by every imported account.
//!
//! Hashing is what makes account creation slow (an OWASP-cost argon2id hash is ≈ 45 ms on this
//! machine's cores), so a practice's list of 550 people takes one hash, not 550. Everyone
//! imported starts with the same password, which is only acceptable as an initial password
//! handed out through another channel, or for a benchmark's throw-away accounts.
//!
//! The input is JSON lines, one object per line (blank lines and lines starting with `#` are
//! skipped):
//!
//! ```text
//! {"kind":"user","role":"doctor","email":"a@x.fr","name":"Dr A","speciality":"Généraliste"}
//! {"kind":"user","role":"patient","email":"b@x.fr","name":"B"}
//! {"kind":"link","doctor":"a@x.fr","patient":"b@x.fr"}
//! ```
//!
//! A link may name accounts of the same file or accounts that already exist. Everything is
//! checked before anything is written, and any error leaves the database as it was.

use crate::audit::{Action, Entry, Source};
use crate::domain::Email;
use crate::error::{AppError, ResultExt};
use crate::store::NewUser;
use crate::store::Store;
use crate::util::now_ms;
use anyhow::{Context, bail};
use colloque_protocol::{Role, UserId};
use serde::Deserialize;
use std::collections::HashMap;

/// One line of the import file.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ImportLine {
    /// An account.
    User {
        /// `patient` or `doctor`.
        role: Role,
        /// Login email.
        email: String,
        /// The name others see.
        name: String,
        /// Doctors only.
        #[serde(default)]
        speciality: Option<String>,
    },
    /// A doctor follows a patient.
    Link {
        /// The doctor's email.
        doctor: String,
        /// The patient's email.
        patient: String,
    },
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Accounts created.
    pub users: usize,
    /// Care links created (links that already existed are not counted).
    pub links: usize,
}

/// Parses the JSON lines of an import file; errors name the line.
pub fn parse(text: &str) -> anyhow::Result<Vec<ImportLine>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#')
        })
        .map(|(index, line)| {
            serde_json::from_str(line).with_context(|| format!("line {}", index + 1))
        })
        .collect()
}

struct CheckedUser {
    role: Role,
    email: Email,
    name: String,
    speciality: Option<String>,
}

/// Imports `lines` in one transaction; every account gets `password_hash` (a PHC string).
pub async fn import(
    pool: &Store,
    password_hash: &str,
    lines: &[ImportLine],
) -> anyhow::Result<ImportReport> {
    let mut users = Vec::new();
    let mut links = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let entry = index + 1;
        match line {
            ImportLine::User {
                role,
                email,
                name,
                speciality,
            } => {
                let email = Email::parse(email).with_context(|| format!("entry {entry}"))?;
                let name = name.trim();
                if name.is_empty() {
                    bail!("entry {entry}: the name must not be empty");
                }
                let speciality = speciality
                    .as_deref()
                    .map(str::trim)
                    .filter(|text| !text.is_empty());
                if *role == Role::Patient && speciality.is_some() {
                    bail!("entry {entry}: only doctors have a speciality");
                }
                users.push(CheckedUser {
                    role: *role,
                    email,
                    name: name.to_owned(),
                    speciality: speciality.map(str::to_owned),
                });
            }
            ImportLine::Link { doctor, patient } => {
                let doctor = Email::parse(doctor).with_context(|| format!("entry {entry}"))?;
                let patient = Email::parse(patient).with_context(|| format!("entry {entry}"))?;
                links.push((entry, doctor, patient));
            }
        }
    }

    let now = now_ms();
    let mut tx = pool.begin_write().await?;
    let mut ids: HashMap<String, (UserId, Role)> = HashMap::with_capacity(users.len());
    for user in &users {
        let new = NewUser {
            role: user.role,
            display_name: &user.name,
            email: &user.email,
            speciality: user.speciality.as_deref(),
            password_hash,
        };
        let id = tx
            .insert_user(&new, now)
            .await
            .on_unique_violation("users.email", || {
                AppError::InvalidInput(format!(
                    "an account with email {} already exists",
                    user.email.as_str()
                ))
            })?;
        ids.insert(user.email.as_str().to_owned(), (id, user.role));
    }
    let mut created_links = 0;
    for (entry, doctor, patient) in &links {
        let mut find = async |email: &Email, role: Role| -> anyhow::Result<UserId> {
            let found = match ids.get(email.as_str()) {
                Some(&known) => Some(known),
                None => tx.id_and_role_by_email(email).await?,
            };
            match found {
                Some((id, found)) if found == role => Ok(id),
                Some(_) => bail!(
                    "entry {entry}: {} is not a {}",
                    email.as_str(),
                    role.as_str()
                ),
                None => bail!("entry {entry}: no account with email {}", email.as_str()),
            }
        };
        let doctor = find(doctor, Role::Doctor).await?;
        let patient = find(patient, Role::Patient).await?;
        if tx.link(doctor, patient, now).await? {
            created_links += 1;
        }
    }
    let entry = Entry::new(Action::UsersImported, None)
        .detail(format!("{} accounts, {created_links} links", users.len()));
    tx.audit(&Source::cli(), &entry).await?;
    tx.commit().await?;
    Ok(ImportReport {
        users: users.len(),
        links: created_links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
# a practice
{"kind":"user","role":"doctor","email":"Dr.A@Example.fr","name":"Dr A","speciality":"Généraliste"}
{"kind":"user","role":"patient","email":"b@example.fr","name":"B"}

{"kind":"link","doctor":"dr.a@example.fr","patient":"b@example.fr"}
"#;

    async fn pool() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let pool = Store::connect(&crate::store::DatabaseUrl::in_data_dir(dir.path()))
            .await
            .unwrap();
        (dir, pool)
    }

    #[tokio::test]
    async fn imports_accounts_and_links_in_one_go() {
        let (_dir, pool) = pool().await;
        let lines = parse(FILE).unwrap();
        let report = import(&pool, "$argon2id$fake", &lines).await.unwrap();
        assert_eq!(report, ImportReport { users: 2, links: 1 });
        let doctor = Email::parse("dr.a@example.fr").unwrap();
        let patient = Email::parse("b@example.fr").unwrap();
        let (doctor, _) = pool.id_and_role_by_email(&doctor).await.unwrap().unwrap();
        let (patient, _) = pool.id_and_role_by_email(&patient).await.unwrap().unwrap();
        assert!(pool.is_linked(doctor, patient).await.unwrap());
    }

    #[tokio::test]
    async fn a_bad_entry_leaves_the_database_as_it_was() {
        let (_dir, pool) = pool().await;
        // The link names a patient as the doctor: refused after the accounts were inserted
        // inside the transaction, which must then be rolled back.
        let text = format!(
            "{FILE}\n{}",
            r#"{"kind":"link","doctor":"b@example.fr","patient":"b@example.fr"}"#
        );
        let error = import(&pool, "$argon2id$fake", &parse(&text).unwrap())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("is not a doctor"), "{error}");
        assert_eq!(pool.count_users().await.unwrap(), 0);
    }

    #[test]
    fn a_malformed_line_is_named() {
        let error = parse("{\"kind\":\"user\"}\n{oops").unwrap_err();
        assert!(format!("{error:#}").contains("line 1"), "{error:#}");
        let error =
            parse(r#"{"kind":"user","role":"nurse","email":"a@b.fr","name":"A"}"#).unwrap_err();
        assert!(format!("{error:#}").contains("line 1"), "{error:#}");
    }

    #[tokio::test]
    async fn a_duplicate_email_is_refused_whole() {
        let (_dir, pool) = pool().await;
        let lines = parse(&format!("{FILE}\n{FILE}")).unwrap();
        let error = import(&pool, "$argon2id$fake", &lines).await.unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
        assert_eq!(pool.count_users().await.unwrap(), 0);
    }
}
