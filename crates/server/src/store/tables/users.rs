//! The `users` table.

use super::Db;
use crate::domain::Email;
use crate::store::model::*;
use colloque_protocol::{Role, Timestamp, UserId, UserProfile};
use sqlx::{Executor, FromRow};

#[derive(FromRow)]
pub(crate) struct ProfileRow {
    pub id: i64,
    pub role: String,
    pub display_name: String,
    pub speciality: Option<String>,
}

impl ProfileRow {
    pub(crate) fn into_profile(self) -> Result<UserProfile, sqlx::Error> {
        Ok(UserProfile {
            id: UserId(self.id),
            role: parse_role(&self.role)?,
            display_name: self.display_name,
            speciality: self.speciality,
        })
    }
}

/// Creates an account. Fails with a unique violation on `users.email` if the email is taken.
#[tracing::instrument(skip_all, fields(role = user.role.as_str()))]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    user: &NewUser<'_>,
    now: Timestamp,
) -> Result<UserId, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (role, display_name, email, speciality, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.role.as_str())
    .bind(user.display_name)
    .bind(user.email.as_str())
    .bind(user.speciality)
    .bind(user.password_hash)
    .bind(now.0)
    .fetch_one(db)
    .await?;
    Ok(UserId(id))
}

/// The credentials of the account with this email, if any.
#[tracing::instrument(skip_all)]
pub async fn credentials_by_email(
    db: impl Executor<'_, Database = Db>,
    email: &Email,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row: Option<(i64, String, String, bool)> =
        sqlx::query_as("SELECT id, role, password_hash, disabled FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(db)
            .await?;
    row.map(|(id, role, password_hash, disabled)| {
        Ok(Credentials {
            id: UserId(id),
            role: parse_role(&role)?,
            password_hash,
            disabled,
        })
    })
    .transpose()
}

/// The same as [`credentials_by_email`], by id, with the account's email: what the second
/// step of a login needs.
#[tracing::instrument(skip_all)]
pub async fn credentials_by_id(
    db: impl Executor<'_, Database = Db>,
    id: UserId,
) -> Result<Option<(Credentials, String)>, sqlx::Error> {
    let row: Option<(String, String, bool, String)> =
        sqlx::query_as("SELECT role, password_hash, disabled, email FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(db)
            .await?;
    row.map(|(role, password_hash, disabled, email)| {
        Ok((
            Credentials {
                id,
                role: parse_role(&role)?,
                password_hash,
                disabled,
            },
            email,
        ))
    })
    .transpose()
}

/// The id and role of the account with this email, if any.
#[tracing::instrument(skip_all)]
pub async fn id_and_role_by_email(
    db: impl Executor<'_, Database = Db>,
    email: &Email,
) -> Result<Option<(UserId, Role)>, sqlx::Error> {
    let row: Option<(i64, String)> = sqlx::query_as("SELECT id, role FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db)
        .await?;
    row.map(|(id, role)| Ok((UserId(id), parse_role(&role)?)))
        .transpose()
}

/// A user's public profile.
#[tracing::instrument(skip(db))]
pub async fn profile(
    db: impl Executor<'_, Database = Db>,
    id: UserId,
) -> Result<Option<UserProfile>, sqlx::Error> {
    sqlx::query_as::<_, ProfileRow>(
        "SELECT id, role, display_name, speciality FROM users WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(db)
    .await?
    .map(ProfileRow::into_profile)
    .transpose()
}

/// How many accounts exist.
pub async fn count(db: impl Executor<'_, Database = Db>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

/// Enables or disables an account. Returns false when no account has this email.
#[tracing::instrument(skip(db))]
pub async fn set_disabled(
    db: impl Executor<'_, Database = Db>,
    id: UserId,
    disabled: bool,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
        .bind(id.0)
        .bind(disabled)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The email and password hash of account `id` (a password change checks the current
/// password, and counts its attempts under the email like a login's).
#[tracing::instrument(skip(db))]
pub async fn email_and_hash(
    db: impl Executor<'_, Database = Db>,
    id: UserId,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT email, password_hash FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_optional(db)
        .await
}

/// Replaces account `id`'s password hash.
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn set_password_hash(
    db: impl Executor<'_, Database = Db>,
    id: UserId,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id.0)
        .bind(password_hash)
        .execute(db)
        .await?;
    Ok(())
}
