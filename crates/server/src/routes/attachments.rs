//! `/api/attachments` (upload, download, thumbnail) and the Documents lists
//! (`/api/conversations/{id}/attachments`, `/api/me/attachments`). The rules are in
//! [`crate::attachments`]; here, the HTTP shape: a streamed, bounded body, and answers that a
//! browser can never render as a page.

use super::conversations::audited;
use super::{ApiPath, ApiQuery};
use crate::attachments;
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use colloque_protocol::{
    ApiError, AttachmentId, AttachmentMeta, AttachmentType, ConversationId, DEFAULT_PAGE_SIZE,
    DocumentPage, DocumentsQuery, MAX_PAGE_SIZE, UploadQuery,
};
use futures_util::StreamExt;

/// The routes under the API's request deadline.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attachments/{id}", get(download))
        .route("/attachments/{id}/thumbnail", get(thumbnail))
        .route(
            "/conversations/{id}/attachments",
            get(conversation_documents),
        )
        .route("/me/attachments", get(my_documents))
}

/// The upload, outside the API's request deadline: its body may take longer than that to
/// arrive from a phone on a slow link. It enforces its own limits while it streams: the file
/// size (instead of the 128 KiB of JSON bodies), a minimum transfer rate, and the request
/// deadline again for the work after the body has arrived.
pub fn upload_router() -> Router<AppState> {
    Router::new().route(
        "/attachments",
        post(upload).layer(DefaultBodyLimit::disable()),
    )
}

/// Uploads a file before sending it: the raw bytes as the body (any `Content-Type`: the type
/// is sniffed from the bytes), its name in the query. The file is checked (PDF, JPEG, PNG or
/// HEIC/HEIF by its content), its metadata removed (EXIF, XMP, GPS), and stored for the
/// caller only until a message sends it (`attachment_ids`); unsent, it is deleted after a day.
#[utoipa::path(
    post,
    path = "/api/attachments",
    tag = "attachments",
    security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, description = "Stored, not yet sent", body = AttachmentMeta),
        (status = 400, description = "A name that is empty, over 255 characters or with control characters, or an unknown query field (`invalid_input`); the body was cut off before its end (`invalid_input`)", body = ApiError),
        (status = 408, description = "The body fell behind the minimum transfer rate (10 kB/s by default, after the first 30 s) and was cut (`upload_too_slow`); nothing was stored", body = ApiError),
        (status = 413, description = "Over the per-file limit (`file_too_large`) or the caller's quota (`quota_exceeded`); the message lists what is accepted", body = ApiError),
        (status = 415, description = "Not a PDF, JPEG, PNG or HEIC/HEIF by its bytes, or an image that cannot be read (`unsupported_file_type`); the message lists what is accepted", body = ApiError),
    )
)]
#[tracing::instrument(name = "upload_attachment", skip_all, fields(user = %user.id))]
pub async fn upload(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AttachmentMeta>), AppError> {
    let name = attachments::parse_name(&query.name)?;
    let raw = read_upload(&state, &headers, body).await?;
    // The body is in: from here on, the same deadline as any other request.
    let store = async {
        let meta = attachments::upload(&state, &user, &name, raw).await?;
        let entry = Entry::new(Action::AttachmentUploaded, Some(user.id))
            .detail(meta.content_type.mime().to_owned());
        state.audit.read(&source, entry).await?;
        Ok::<_, AppError>(meta)
    };
    match tokio::time::timeout(state.limits.http_request_timeout, store).await {
        Ok(meta) => Ok((StatusCode::CREATED, Json(meta?))),
        Err(_) => {
            tracing::warn!("upload answered 503: storing it took too long");
            Err(AppError::Busy(1))
        }
    }
}

/// The upload's bytes, in one buffer bounded by the file limit: refused as soon as they would
/// pass it (413), or as soon as they fall behind the minimum rate (408): each next chunk is
/// due by [`attachments::AttachmentLimits::next_bytes_due`].
async fn read_upload(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, AppError> {
    let limits = &state.limits.attachments;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_file_bytes as u64) {
        return Err(limits.too_large());
    }
    let started = tokio::time::Instant::now();
    let grace = state.limits.http_request_timeout;
    let capacity = declared.map_or(64 * 1024, |length| length as usize);
    let mut raw = Vec::with_capacity(capacity.min(limits.max_file_bytes));
    let mut stream = body.into_data_stream();
    loop {
        let due = limits.next_bytes_due(started, raw.len(), grace);
        let Ok(next) = tokio::time::timeout_at(due, stream.next()).await else {
            tracing::info!(received = raw.len(), "upload cut: under the minimum rate");
            return Err(limits.too_slow());
        };
        let Some(chunk) = next else {
            return Ok(raw);
        };
        let chunk = chunk.map_err(|_| {
            AppError::InvalidInput(
                "the upload was cut off before its end; nothing was stored".into(),
            )
        })?;
        if raw.len() + chunk.len() > limits.max_file_bytes {
            return Err(limits.too_large());
        }
        raw.extend_from_slice(&chunk);
    }
}

/// Downloads an attachment: its uploader before it is sent, either participant of its
/// conversation after. Served with its sniffed type, as a download for PDF (inline for images),
/// under a sandboxing CSP, never cached.
#[utoipa::path(
    get,
    path = "/api/attachments/{id}",
    tag = "attachments",
    security(("bearer" = [])),
    params(("id" = AttachmentId, Path, description = "The attachment id")),
    responses(
        (status = 200, description = "The file", content(
            (Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"),
            (Vec<u8> = "image/heic"), (Vec<u8> = "image/heif"))),
        (status = 404, description = "No such attachment, or not one the caller may read", body = ApiError),
        (status = 503, description = "The download could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "download_attachment", skip_all, fields(user = %user.id))]
pub async fn download(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<AttachmentId>,
) -> Result<Response, AppError> {
    serve(&state, &source, &user, id, false).await
}

/// A JPEG thumbnail of a JPEG or PNG attachment (at most 320 px), for the thread. HEIC and PDF
/// have none (404): the app shows a file icon.
#[utoipa::path(
    get,
    path = "/api/attachments/{id}/thumbnail",
    tag = "attachments",
    security(("bearer" = [])),
    params(("id" = AttachmentId, Path, description = "The attachment id")),
    responses(
        (status = 200, description = "The thumbnail", content((Vec<u8> = "image/jpeg"))),
        (status = 404, description = "No such attachment, not one the caller may read, or one without a thumbnail", body = ApiError),
        (status = 503, description = "The download could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "attachment_thumbnail", skip_all, fields(user = %user.id))]
pub async fn thumbnail(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<AttachmentId>,
) -> Result<Response, AppError> {
    serve(&state, &source, &user, id, true).await
}

async fn serve(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: AttachmentId,
    thumbnail: bool,
) -> Result<Response, AppError> {
    let result = async {
        let row = attachments::visible(state, user, id).await?;
        if thumbnail && !row.meta.has_thumbnail {
            return Err(AppError::NotFound);
        }
        let bytes = state
            .store
            .attachment_content(&row.sha256, thumbnail)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((row, bytes))
    }
    .await;
    let conversation = result.as_ref().ok().and_then(|(row, _)| row.conversation);
    let (row, bytes) = match &result {
        Ok(_) => {
            let mut entry = Entry::new(Action::AttachmentDownloaded, Some(user.id));
            entry.conversation_id = conversation;
            let detail = if thumbnail {
                format!("{id} thumbnail")
            } else {
                id.to_string()
            };
            state.audit.read(source, entry.detail(detail)).await?;
            result?
        }
        Err(_) => audited(state, source, user, None, None, result).await?,
    };
    let kind = if thumbnail {
        AttachmentType::Jpeg
    } else {
        row.meta.content_type
    };
    let disposition = match kind {
        AttachmentType::Pdf => "attachment",
        _ => "inline",
    };
    let name = if thumbnail {
        format!("thumbnail-{}.jpg", row.meta.id)
    } else {
        row.meta.name.clone()
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(kind.mime())),
        (
            header::CONTENT_DISPOSITION,
            content_disposition(disposition, &name),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ),
    ];
    Ok((headers, bytes).into_response())
}

/// `Content-Disposition` with the name both as an ASCII fallback (anything outside printable
/// ASCII, quotes and backslashes replaced by `_`) and in full as RFC 5987 `filename*` (RFC 6266).
pub fn content_disposition(disposition: &str, name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let value = format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The attachments sent in one of the caller's conversations, newest first (the Documents
/// view of a conversation).
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/attachments",
    tag = "attachments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id"), DocumentsQuery),
    responses(
        (status = 200, description = "A page of documents, newest first", body = DocumentPage),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "conversation_documents", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn conversation_documents(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<DocumentsQuery>,
) -> Result<Json<DocumentPage>, AppError> {
    let result = async {
        attachments::own_conversation(&state, &user, id).await?;
        documents(&state, &user, Some(id), &query).await
    }
    .await;
    let listed = Some(Action::DocumentsListed);
    Ok(Json(
        audited(&state, &source, &user, Some(id), listed, result).await?,
    ))
}

/// The attachments sent in all the caller's conversations, newest first (the Documents view).
#[utoipa::path(
    get,
    path = "/api/me/attachments",
    tag = "attachments",
    security(("bearer" = [])),
    params(DocumentsQuery),
    responses(
        (status = 200, description = "A page of documents, newest first", body = DocumentPage),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "my_documents", skip_all, fields(user = %user.id))]
pub async fn my_documents(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiQuery(query): ApiQuery<DocumentsQuery>,
) -> Result<Json<DocumentPage>, AppError> {
    let result = documents(&state, &user, None, &query).await;
    let listed = Some(Action::DocumentsListed);
    Ok(Json(
        audited(&state, &source, &user, None, listed, result).await?,
    ))
}

async fn documents(
    state: &AppState,
    user: &AuthUser,
    conversation: Option<ConversationId>,
    query: &DocumentsQuery,
) -> Result<DocumentPage, AppError> {
    let before = query.before.unwrap_or(i64::MAX);
    let limit = query
        .limit
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let (documents, has_more) = state
        .store
        .documents(user.id, conversation, before, limit)
        .await?;
    Ok(DocumentPage {
        documents,
        has_more,
    })
}
