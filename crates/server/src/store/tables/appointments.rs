//! The `appointments` table.

use super::Db;
use crate::store::model::*;
use colloque_protocol::{Appointment, AppointmentId, Role, Timestamp, UserId, UserProfile};
use sqlx::{Executor, FromRow};

#[derive(FromRow)]
struct AppointmentRow {
    id: i64,
    starts_at: i64,
    duration_minutes: i64,
    location: String,
    reason: String,
    patient_id: i64,
    patient_name: String,
    doctor_id: i64,
    doctor_name: String,
    doctor_speciality: Option<String>,
}

impl AppointmentRow {
    fn into_appointment(self) -> Appointment {
        Appointment {
            id: AppointmentId(self.id),
            patient: UserProfile {
                id: UserId(self.patient_id),
                role: Role::Patient,
                display_name: self.patient_name,
                speciality: None,
            },
            doctor: UserProfile {
                id: UserId(self.doctor_id),
                role: Role::Doctor,
                display_name: self.doctor_name,
                speciality: self.doctor_speciality,
            },
            starts_at: Timestamp(self.starts_at),
            duration_minutes: u32::try_from(self.duration_minutes).unwrap_or(0),
            location: self.location,
            reason: self.reason,
        }
    }
}

/// Stores an appointment.
#[tracing::instrument(skip_all)]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    appointment: &NewAppointment<'_>,
) -> Result<AppointmentId, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO appointments (patient_id, doctor_id, starts_at, duration_minutes, location, reason)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(appointment.patient.0)
    .bind(appointment.doctor.0)
    .bind(appointment.starts_at.0)
    .bind(i64::from(appointment.duration_minutes))
    .bind(appointment.location)
    .bind(appointment.reason)
    .fetch_one(db)
    .await?;
    Ok(AppointmentId(id))
}

/// The user's appointments (as patient or as doctor), earliest first.
#[tracing::instrument(skip(db))]
pub async fn for_user(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    role: Role,
) -> Result<Vec<Appointment>, sqlx::Error> {
    let rows = sqlx::query_as::<_, AppointmentRow>(
        "SELECT a.id, a.starts_at, a.duration_minutes, a.location, a.reason,
                p.id AS patient_id, p.display_name AS patient_name,
                d.id AS doctor_id, d.display_name AS doctor_name, d.speciality AS doctor_speciality
         FROM appointments a
         JOIN users p ON p.id = a.patient_id
         JOIN users d ON d.id = a.doctor_id
         WHERE ($2 = 'patient' AND a.patient_id = $1) OR ($2 = 'doctor' AND a.doctor_id = $1)
         ORDER BY a.starts_at, a.id",
    )
    .bind(user.0)
    .bind(role.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(AppointmentRow::into_appointment)
        .collect())
}
