//! The `care_relationships` table: which doctor follows which patient. Only linked users can
//! talk to each other.

use super::Db;
use super::users::ProfileRow;
use colloque_protocol::{Timestamp, UserId, UserProfile};
use sqlx::Executor;

/// Links a doctor and a patient. Returns false if they were already linked.
#[tracing::instrument(skip(db))]
pub async fn link(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    patient: UserId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO care_relationships (doctor_id, patient_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (doctor_id, patient_id) DO NOTHING",
    )
    .bind(doctor.0)
    .bind(patient.0)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Ends the care relationship of a pair. Returns false if there was none.
#[tracing::instrument(skip(db))]
pub async fn unlink(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    patient: UserId,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("DELETE FROM care_relationships WHERE doctor_id = $1 AND patient_id = $2")
            .bind(doctor.0)
            .bind(patient.0)
            .execute(db)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// True when `doctor` follows `patient` and both accounts have the expected roles.
#[tracing::instrument(skip(db))]
pub async fn is_linked(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    patient: UserId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (
            SELECT 1 FROM care_relationships c
            JOIN users d ON d.id = c.doctor_id AND d.role = 'doctor' AND NOT d.disabled
            JOIN users p ON p.id = c.patient_id AND p.role = 'patient' AND NOT p.disabled
            WHERE c.doctor_id = $1 AND c.patient_id = $2)",
    )
    .bind(doctor.0)
    .bind(patient.0)
    .fetch_one(db)
    .await
}

/// A patient's doctors, by name.
#[tracing::instrument(skip(db))]
pub async fn doctors_of(
    db: impl Executor<'_, Database = Db>,
    patient: UserId,
) -> Result<Vec<UserProfile>, sqlx::Error> {
    sqlx::query_as::<_, ProfileRow>(
        "SELECT u.id, u.role, u.display_name, u.speciality
         FROM care_relationships c JOIN users u ON u.id = c.doctor_id
         WHERE c.patient_id = $1 AND NOT u.disabled
         ORDER BY u.display_name, u.id",
    )
    .bind(patient.0)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(ProfileRow::into_profile)
    .collect()
}

/// A doctor's patients, by name.
#[tracing::instrument(skip(db))]
pub async fn patients_of(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
) -> Result<Vec<UserProfile>, sqlx::Error> {
    sqlx::query_as::<_, ProfileRow>(
        "SELECT u.id, u.role, u.display_name, u.speciality
         FROM care_relationships c JOIN users u ON u.id = c.patient_id
         WHERE c.doctor_id = $1 AND NOT u.disabled
         ORDER BY u.display_name, u.id",
    )
    .bind(doctor.0)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(ProfileRow::into_profile)
    .collect()
}
