//! The one error type of the server. Every handler returns `Result<_, AppError>`; the
//! WebSocket turns the same errors into [`ServerFrame::Error`](colloque_protocol::ServerFrame).
//!
//! 4xx errors carry a protocol [`ErrorCode`] and a short English hint. 5xx errors are logged
//! with their full cause chain and answered with a generic body: internals (SQL, file paths)
//! never reach a client.

use crate::domain::DomainError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use colloque_protocol::{ApiError, ErrorCode};

/// `Retry-After` of a read refused because its audit entry could not be written.
pub const UNRECORDED_RETRY_SECS: u64 = 5;

/// Everything that can go wrong while serving a request or a frame.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, malformed, expired, forged or revoked token.
    #[error("authentication required")]
    Unauthorized,
    /// Login failed (unknown email and wrong password alike).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A password change whose current password is wrong.
    #[error("the current password is not right")]
    WrongPassword,
    /// A new password the policy refuses; the text says why, never the password.
    #[error("{0}")]
    WeakPassword(&'static str),
    /// No such resource, or not one this user may know about.
    #[error("not found")]
    NotFound,
    /// An id in the body that names nothing the caller may use (422); the text says which
    /// field.
    #[error("{0}")]
    UnknownReference(&'static str),
    /// Writing to a closed conversation.
    #[error("the conversation is closed")]
    ConversationClosed,
    /// Starting a conversation outside the care team.
    #[error("there is no care relationship between these users")]
    NoCareRelationship,
    /// A patient's new request that the doctor's intake setting refuses.
    #[error("this doctor takes no new request from this patient by message now")]
    IntakeClosed,
    /// A patient the doctor blocked, writing to them.
    #[error("this doctor does not take messages from this patient")]
    PatientBlocked,
    /// Reopening a conversation while another one of the pair is open.
    #[error("another conversation between these two is open")]
    OpenConversationExists,
    /// Unparseable JSON, or JSON of the wrong shape.
    #[error("{0}")]
    InvalidJson(String),
    /// JSON sent without `Content-Type: application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A value outside its allowed range or shape.
    #[error("{0}")]
    InvalidInput(String),
    /// The route exists, not with this method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// A history position that makes no sense.
    #[error("{0}")]
    InvalidCursor(String),
    /// A history position past the conversation's last message: well formed, but the
    /// client's state does not match the server's (409: reload the conversation).
    #[error("`after` is past the conversation's last message; reload it")]
    CursorPastEnd,
    /// A client id already given to a message of another conversation (409).
    #[error("this client_id was already used for a message in another conversation")]
    ClientIdReused,
    /// An empty message body.
    #[error("the message is empty")]
    EmptyBody,
    /// A message body over the limit.
    #[error(
        "the message is longer than {} characters",
        colloque_protocol::MAX_MESSAGE_CHARS
    )]
    BodyTooLong,
    /// A request body over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Too many sends or failed logins; retry after this many seconds.
    #[error("too many requests; try again in {0} s")]
    RateLimited(u64),
    /// Too busy to take the request (the password hashing queue is full); retry after this
    /// many seconds.
    #[error("the server is busy; try again in {0} s")]
    Busy(u64),
    /// A read of health data whose audit entry could not be written: refused, nothing
    /// returned; retry after this many seconds.
    #[error(
        "the access could not be recorded in the audit trail; nothing was returned, try again in {0} s"
    )]
    Unrecorded(u64),
    /// A wrong, used or late one-time code at login's second step (401: no session yet).
    #[error("the code is not right, or was already used")]
    InvalidMfaCode,
    /// The same, from a logged-in user (403: the session itself is fine).
    #[error("the code is not right, or was already used")]
    WrongMfaCode,
    /// A session restricted to MFA enrolment asked for anything else.
    #[error("multi-factor authentication is required: enrol first")]
    MfaEnrolmentRequired,
    /// An enrolment started while MFA is on.
    #[error("multi-factor authentication is already on; disable it first")]
    MfaAlreadyEnabled,
    /// An upload that is not an accepted type by its bytes (415); the text lists what is.
    #[error("{0}")]
    UnsupportedFileType(String),
    /// An upload over the per-file limit (413); the text gives the limits.
    #[error("{0}")]
    FileTooLarge(String),
    /// An upload over the user's quota (413); the text gives the limits.
    #[error("{0}")]
    QuotaExceeded(String),
    /// More attachments than a message may carry (400).
    #[error("{0}")]
    TooManyAttachments(String),
    /// An attachment already sent with another message (409).
    #[error("this attachment was already sent with another message; upload it again")]
    AttachmentAlreadySent,
    /// A collection that is full (409); the text gives the limit.
    #[error("{0}")]
    LimitReached(String),
    /// An upload that fell behind the minimum transfer rate (408); the text gives it.
    #[error("{0}")]
    UploadTooSlow(String),
    /// Anything else: logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// The protocol code.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::InvalidCredentials => ErrorCode::InvalidCredentials,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::WrongPassword => ErrorCode::WrongPassword,
            AppError::WeakPassword(_) => ErrorCode::WeakPassword,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::UnknownReference(_) => ErrorCode::UnknownReference,
            AppError::ConversationClosed => ErrorCode::ConversationClosed,
            AppError::NoCareRelationship => ErrorCode::NoCareRelationship,
            AppError::IntakeClosed => ErrorCode::IntakeClosed,
            AppError::PatientBlocked => ErrorCode::PatientBlocked,
            AppError::OpenConversationExists => ErrorCode::OpenConversationExists,
            AppError::InvalidJson(_) | AppError::UnsupportedMediaType(_) => ErrorCode::InvalidJson,
            AppError::InvalidInput(_) | AppError::MethodNotAllowed | AppError::ClientIdReused => {
                ErrorCode::InvalidInput
            }
            AppError::InvalidCursor(_) | AppError::CursorPastEnd => ErrorCode::InvalidCursor,
            AppError::EmptyBody => ErrorCode::EmptyBody,
            AppError::BodyTooLong => ErrorCode::BodyTooLong,
            AppError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            AppError::RateLimited(_) => ErrorCode::RateLimited,
            AppError::Busy(_) | AppError::Unrecorded(_) => ErrorCode::ServerBusy,
            AppError::InvalidMfaCode | AppError::WrongMfaCode => ErrorCode::InvalidMfaCode,
            AppError::MfaEnrolmentRequired => ErrorCode::MfaEnrolmentRequired,
            AppError::MfaAlreadyEnabled => ErrorCode::MfaAlreadyEnabled,
            AppError::UnsupportedFileType(_) => ErrorCode::UnsupportedFileType,
            AppError::FileTooLarge(_) => ErrorCode::FileTooLarge,
            AppError::QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            AppError::TooManyAttachments(_) => ErrorCode::TooManyAttachments,
            AppError::AttachmentAlreadySent => ErrorCode::AttachmentAlreadySent,
            AppError::LimitReached(_) => ErrorCode::LimitReached,
            AppError::UploadTooSlow(_) => ErrorCode::UploadTooSlow,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized | AppError::InvalidCredentials | AppError::InvalidMfaCode => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Forbidden(_)
            | AppError::NoCareRelationship
            | AppError::WrongPassword
            | AppError::WrongMfaCode
            | AppError::MfaEnrolmentRequired
            | AppError::IntakeClosed
            | AppError::PatientBlocked => StatusCode::FORBIDDEN,
            AppError::MfaAlreadyEnabled | AppError::LimitReached(_) => StatusCode::CONFLICT,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::UnknownReference(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::ConversationClosed
            | AppError::CursorPastEnd
            | AppError::ClientIdReused
            | AppError::OpenConversationExists => StatusCode::CONFLICT,
            AppError::InvalidJson(_)
            | AppError::InvalidInput(_)
            | AppError::InvalidCursor(_)
            | AppError::WeakPassword(_)
            | AppError::EmptyBody
            | AppError::BodyTooLong => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType(_) | AppError::UnsupportedFileType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            AppError::FileTooLarge(_) | AppError::QuotaExceeded(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyAttachments(_) => StatusCode::BAD_REQUEST,
            AppError::AttachmentAlreadySent => StatusCode::CONFLICT,
            AppError::UploadTooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) | AppError::Unrecorded(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body sent to the client. Logs internal errors (the only place they are logged, so
    /// each is logged once).
    pub fn to_api_error(&self) -> ApiError {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
            return ApiError::new(
                ErrorCode::Internal,
                "internal server error; nothing was stored",
            );
        }
        ApiError::new(self.code(), self.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match self {
            AppError::RateLimited(seconds)
            | AppError::Busy(seconds)
            | AppError::Unrecorded(seconds) => Some(seconds),
            _ => None,
        };
        let mut response = (status, Json(self.to_api_error())).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"colloque\""),
            );
        }
        response
    }
}

impl AppError {
    /// Rate limited until `wait` has passed (rounded up to whole seconds).
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        AppError::RateLimited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }

    /// An access whose audit entry could not be written (`error`, logged here): `503
    /// server_busy`, and the caller answers nothing else.
    pub fn unrecorded(action: crate::audit::Action, error: &sqlx::Error) -> Self {
        tracing::error!(
            %error,
            action = action.as_str(),
            "an access could not be recorded in the audit trail; it is refused"
        );
        AppError::Unrecorded(UNRECORDED_RETRY_SECS)
    }

    /// True for the refusals that concern an object the caller may not reach (audited).
    pub fn is_access_denial(&self) -> bool {
        matches!(
            self,
            AppError::NotFound
                | AppError::UnknownReference(_)
                | AppError::Forbidden(_)
                | AppError::NoCareRelationship
                | AppError::IntakeClosed
                | AppError::PatientBlocked
        )
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(error).context("database error"))
    }
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::EmptyBody => AppError::EmptyBody,
            DomainError::BodyTooLong => AppError::BodyTooLong,
            DomainError::Invalid(why) => AppError::InvalidInput(why.to_owned()),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
                "expected a request with Content-Type: application/json".into(),
            ),
            rejection if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge("the request body is too large".into())
            }
            // Both syntax errors and well-formed JSON of the wrong shape: the body text (which
            // could quote the message) stays out of the error.
            JsonRejection::JsonSyntaxError(_) => {
                AppError::InvalidJson("the request body is not valid JSON".into())
            }
            JsonRejection::JsonDataError(error) => AppError::InvalidJson(format!(
                "the request body does not have the expected shape: {}",
                shape_error(&error.body_text())
            )),
            _ => AppError::InvalidJson("the request body could not be read".into()),
        }
    }
}

/// serde's data errors name the missing field, which helps client developers; other data errors
/// ("invalid type: string \"…\"") can quote the value sent, which may be health data, so
/// only a generic hint is returned for them.
fn shape_error(text: &str) -> String {
    if let Some(start) = text.find("missing field `")
        && let Some(len) = text[start + 15..].find('`')
    {
        return text[start..start + 15 + len + 1].to_owned();
    }
    "a field has the wrong type or value".to_owned()
}

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> Self {
        AppError::InvalidInput("invalid path parameter".into())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::InvalidInput(format!("invalid query string ({})", rejection.status()))
    }
}

/// Maps a unique-constraint violation to a 4xx error, like realworld-axum-sqlx's
/// `on_constraint`. SQLite reports the violated columns in the message
/// ("UNIQUE constraint failed: users.email"), so `columns` is matched against it.
pub trait ResultExt<T> {
    /// If the error is a unique violation mentioning `columns`, returns `map()` instead.
    fn on_unique_violation(
        self,
        columns: &str,
        map: impl FnOnce() -> AppError,
    ) -> Result<T, AppError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_unique_violation(
        self,
        columns: &str,
        map: impl FnOnce() -> AppError,
    ) -> Result<T, AppError> {
        self.map_err(|error| {
            if is_unique_violation(&error, columns) {
                map()
            } else {
                error.into()
            }
        })
    }
}

/// True when `error` is a unique-constraint violation mentioning `columns`.
pub fn is_unique_violation(error: &sqlx::Error, columns: &str) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.is_unique_violation() && db.message().contains(columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let error = AppError::Internal(anyhow::anyhow!("disk /secret/path is full"));
        let body = error.to_api_error();
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("secret"));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn domain_errors_map_to_their_protocol_codes() {
        assert_eq!(
            AppError::from(DomainError::EmptyBody).code(),
            ErrorCode::EmptyBody
        );
        assert_eq!(
            AppError::from(DomainError::BodyTooLong).code(),
            ErrorCode::BodyTooLong
        );
        assert_eq!(
            AppError::from(DomainError::Invalid("x")).status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn shape_errors_keep_only_serdes_explanation() {
        assert_eq!(
            shape_error("Failed to deserialize the JSON body: missing field `body` at line 1"),
            "missing field `body`"
        );
        assert!(!shape_error(r#"invalid type: string "j'ai mal", expected u64"#).contains("mal"));
    }
}
