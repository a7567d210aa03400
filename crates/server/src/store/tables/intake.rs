//! The `intake_settings` and `patient_blocks` tables: who may start a conversation with a
//! doctor (the rules are in `care::intake`).

use super::Db;
use crate::care::IntakeRule;
use crate::store::model::*;
use colloque_protocol::{IntakeMode, Timestamp, UserId};
use sqlx::Executor;

/// A doctor's intake setting; the default when they never set one.
#[tracing::instrument(skip(db))]
pub async fn rule(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
) -> Result<IntakeRule, sqlx::Error> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT mode, months FROM intake_settings WHERE doctor_id = $1")
            .bind(doctor.0)
            .fetch_optional(db)
            .await?;
    match row {
        None => Ok(IntakeRule::DEFAULT),
        Some((mode, months)) => Ok(IntakeRule {
            mode: parse_intake_mode(&mode)?,
            months: u32::try_from(months).map_err(|error| sqlx::Error::Decode(Box::new(error)))?,
        }),
    }
}

/// Replaces a doctor's intake setting.
#[tracing::instrument(skip(db))]
pub async fn set_rule(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    mode: IntakeMode,
    months: u32,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO intake_settings (doctor_id, mode, months, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (doctor_id) DO UPDATE
         SET mode = excluded.mode, months = excluded.months, updated_at = excluded.updated_at",
    )
    .bind(doctor.0)
    .bind(intake_mode_str(mode))
    .bind(i64::from(months))
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}

/// The patients a doctor blocked, by id.
#[tracing::instrument(skip(db))]
pub async fn blocked_by(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
) -> Result<Vec<UserId>, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT patient_id FROM patient_blocks WHERE doctor_id = $1 ORDER BY patient_id",
    )
    .bind(doctor.0)
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Blocks a patient; false if they already were.
#[tracing::instrument(skip(db))]
pub async fn block(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    patient: UserId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO patient_blocks (doctor_id, patient_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (doctor_id, patient_id) DO NOTHING",
    )
    .bind(doctor.0)
    .bind(patient.0)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Lifts a block; false if there was none.
#[tracing::instrument(skip(db))]
pub async fn unblock(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    patient: UserId,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM patient_blocks WHERE doctor_id = $1 AND patient_id = $2")
        .bind(doctor.0)
        .bind(patient.0)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether the doctor blocked the patient, and whether the patient has an appointment with the
/// doctor that starts at `since` or later (seen recently, or booked ahead).
#[tracing::instrument(skip(db))]
pub async fn blocked_and_seen(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    patient: UserId,
    since: Timestamp,
) -> Result<(bool, bool), sqlx::Error> {
    sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM patient_blocks WHERE doctor_id = $1 AND patient_id = $2),
                EXISTS (SELECT 1 FROM appointments
                        WHERE doctor_id = $1 AND patient_id = $2 AND starts_at >= $3)",
    )
    .bind(doctor.0)
    .bind(patient.0)
    .bind(since.0)
    .fetch_one(db)
    .await
}
