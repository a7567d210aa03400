//! The `reply_settings`, `absences` and `auto_replies` tables: office hours, the promised reply
//! time, absences and the automatic replies posted during them (the rules are in
//! `care::reply_due` and `chat::hours`).

use super::Db;
use super::users::ProfileRow;
use crate::store::model::*;
use colloque_protocol::{AbsenceId, ConversationId, Timestamp, UserId, UserProfile};
use sqlx::Executor;

/// A doctor's promise and hours, if they set them.
#[tracing::instrument(skip(db))]
pub async fn settings(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
) -> Result<Option<StoredReplySettings>, sqlx::Error> {
    let row: Option<(Option<i64>, String)> =
        sqlx::query_as("SELECT working_days, hours FROM reply_settings WHERE doctor_id = $1")
            .bind(doctor.0)
            .fetch_optional(db)
            .await?;
    row.map(|(days, hours)| {
        let working_days = days
            .map(u32::try_from)
            .transpose()
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        Ok(StoredReplySettings {
            working_days,
            hours,
        })
    })
    .transpose()
}

/// Replaces a doctor's promise and hours.
#[tracing::instrument(skip(db))]
pub async fn set_settings(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    working_days: Option<u32>,
    hours: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO reply_settings (doctor_id, working_days, hours, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (doctor_id) DO UPDATE
         SET working_days = excluded.working_days, hours = excluded.hours,
             updated_at = excluded.updated_at",
    )
    .bind(doctor.0)
    .bind(working_days.map(i64::from))
    .bind(hours)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AbsenceSql {
    id: i64,
    from_day: String,
    to_day: String,
    covering_id: Option<i64>,
    covering_role: Option<String>,
    covering_name: Option<String>,
    covering_speciality: Option<String>,
}

impl AbsenceSql {
    fn into_row(self) -> Result<AbsenceRow, sqlx::Error> {
        let covering = match (self.covering_id, self.covering_role, self.covering_name) {
            (Some(id), Some(role), Some(display_name)) => Some(
                ProfileRow {
                    id,
                    role,
                    display_name,
                    speciality: self.covering_speciality,
                }
                .into_profile()?,
            ),
            _ => None,
        };
        Ok(AbsenceRow {
            id: AbsenceId(self.id),
            from: self.from_day,
            to: self.to_day,
            covering,
        })
    }
}

/// A doctor's absences that end on `day` or later, earliest first; a covering doctor who was
/// disabled since is left out.
#[tracing::instrument(skip(db))]
pub async fn absences_until(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    day: &str,
) -> Result<Vec<AbsenceRow>, sqlx::Error> {
    sqlx::query_as::<_, AbsenceSql>(
        "SELECT a.id, a.from_day, a.to_day, u.id AS covering_id, u.role AS covering_role,
                u.display_name AS covering_name, u.speciality AS covering_speciality
         FROM absences a
         LEFT JOIN users u ON u.id = a.covering_doctor_id AND NOT u.disabled
         WHERE a.doctor_id = $1 AND a.to_day >= $2
         ORDER BY a.from_day, a.id",
    )
    .bind(doctor.0)
    .bind(day)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(AbsenceSql::into_row)
    .collect()
}

/// Records an absence.
#[tracing::instrument(skip(db))]
pub async fn insert_absence(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    from: &str,
    to: &str,
    covering: Option<UserId>,
    now: Timestamp,
) -> Result<AbsenceId, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO absences (doctor_id, from_day, to_day, covering_doctor_id, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(doctor.0)
    .bind(from)
    .bind(to)
    .bind(covering.map(|id| id.0))
    .bind(now.0)
    .fetch_one(db)
    .await?;
    Ok(AbsenceId(id))
}

/// Deletes one of a doctor's absences; false if they have none with this id.
#[tracing::instrument(skip(db))]
pub async fn delete_absence(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    id: AbsenceId,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM absences WHERE id = $1 AND doctor_id = $2")
        .bind(id.0)
        .bind(doctor.0)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The enabled doctors who share at least one patient with `doctor` (their colleagues, who may
/// cover an absence), by name.
#[tracing::instrument(skip(db))]
pub async fn colleagues(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
) -> Result<Vec<UserProfile>, sqlx::Error> {
    sqlx::query_as::<_, ProfileRow>(
        "SELECT u.id, u.role, u.display_name, u.speciality FROM users u
         WHERE u.role = 'doctor' AND NOT u.disabled AND u.id <> $1
           AND EXISTS (SELECT 1 FROM care_relationships mine
                       JOIN care_relationships theirs ON theirs.patient_id = mine.patient_id
                       WHERE mine.doctor_id = $1 AND theirs.doctor_id = u.id)
         ORDER BY u.display_name, u.id",
    )
    .bind(doctor.0)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(ProfileRow::into_profile)
    .collect()
}

/// Notes that conversation `id` got its automatic reply on `day`; false if it already had one
/// that day.
#[tracing::instrument(skip(db))]
pub async fn claim_auto_reply(
    db: impl Executor<'_, Database = Db>,
    id: ConversationId,
    day: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO auto_replies (conversation_id, day) VALUES ($1, $2)
         ON CONFLICT (conversation_id, day) DO NOTHING",
    )
    .bind(id.0)
    .bind(day)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
