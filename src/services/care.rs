//! Appointments, a patient's care team and a doctor's patients.

use super::requests::{Api, Error, request};
use colloque_protocol::{Appointment, UserProfile};
use gloo_net::http::Method;

/// `GET /api/appointments` (the viewer's, patient or doctor).
pub async fn get_appointments(api: &Api) -> Result<Vec<Appointment>, Error> {
    request::<(), _>(api, Method::GET, "/appointments", &[], None).await
}

/// `GET /api/care-team`: a patient's doctors.
pub async fn get_care_team(api: &Api) -> Result<Vec<UserProfile>, Error> {
    request::<(), _>(api, Method::GET, "/care-team", &[], None).await
}

/// `GET /api/patients`: a doctor's patients.
pub async fn get_patients(api: &Api) -> Result<Vec<UserProfile>, Error> {
    request::<(), _>(api, Method::GET, "/patients", &[], None).await
}
