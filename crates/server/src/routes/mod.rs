//! The REST API. Each module exports `router()`; they are merged here, under `/api`.

mod appointments;
mod attachments;
mod auth;
mod conversations;
mod extract;
mod health;
mod hours;
mod intake;
mod mfa;
mod notifications;
pub mod openapi;
mod openapi_contract;
mod people;
mod push;
mod sessions;
mod templates;
mod typing;

pub use extract::{ApiJson, ApiPath, ApiQuery, SecureCookies};
pub use openapi_contract::MAX_ATTACHMENT_NAME_CHARS;

use crate::error::AppError;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

/// The largest request body accepted: a message of 10 000 characters outside the Basic
/// Multilingual Plane fits even when its client escapes them as JSON does by default in some
/// languages (`\ud83d\ude00`: 12 bytes each, 120,000 bytes); anything bigger is refused with
/// 413 before it is buffered.
pub const MAX_REQUEST_BYTES: usize = 128 * 1024;

/// Every `/api` route, relative to `/api`. Each handler has `deadline` to answer (503
/// `server_busy` past it: [`crate::serve::request_deadline`]), but the upload, whose body may
/// take longer to arrive on a slow link: it has its own deadlines (`attachments::upload`).
pub fn api_router(deadline: Duration) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(people::router())
        .merge(sessions::router())
        .merge(mfa::router())
        .merge(conversations::router())
        .merge(intake::router())
        .merge(hours::router())
        .merge(templates::router())
        .merge(attachments::router())
        .merge(notifications::router())
        .merge(typing::router())
        .merge(push::router())
        .merge(appointments::router())
        .merge(health::router())
        .merge(openapi::router())
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                crate::serve::request_deadline(deadline, request, next)
            },
        ))
        // Merged after the deadline's layer, which therefore does not wrap it.
        .merge(attachments::upload_router())
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        // Answers contain health data: no browser or proxy cache may keep them.
        // (Downloads say `private, no-store` themselves.)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
