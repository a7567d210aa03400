//! axum's extractors, with their rejections turned into [`AppError`] so that every failure,
//! including a malformed body or path, answers with a protocol `ApiError` JSON body.

use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts};

/// `Json<T>` whose rejection is an [`AppError`] (400 `invalid_json`, 413 `payload_too_large`).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `Path<T>` whose rejection is an [`AppError`] (400 `invalid_input`).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` whose rejection is an [`AppError`] (400 `invalid_input`).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);
