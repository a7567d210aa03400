//! `/api/conversations` and everything under it.

use super::{ApiJson, ApiPath, ApiQuery};
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::chat;
use crate::domain::{CloseReason, MessageBody, Subject};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::Page;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use colloque_protocol::{
    ApiError, CloseConversationRequest, ConversationId, ConversationSummary, DEFAULT_PAGE_SIZE,
    HistoryQuery, MAX_PAGE_SIZE, MarkReadRequest, Message, MessagePage, ReadCursor,
    SendMessageRequest, SetTriageRequest, StartConversationRequest,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list).post(start))
        .route("/conversations/{id}", get(show))
        .route("/conversations/{id}/messages", get(history).post(send))
        .route("/conversations/{id}/read", post(mark_read))
        .route("/conversations/{id}/received", post(mark_received))
        .route("/conversations/{id}/close", post(close))
        .route("/conversations/{id}/reopen", post(reopen))
        .route("/conversations/{id}/triage", post(triage))
}

/// The caller's conversations (a doctor's or a patient's), most recently active first.
#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's conversations", body = Vec<ConversationSummary>),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "list_conversations", skip_all, fields(user = %user.id))]
pub async fn list(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<Json<Vec<ConversationSummary>>, AppError> {
    let list = crate::chat::summaries(&state.store, user.id, user.role, None).await?;
    let entry = Entry::new(Action::ConversationsListed, Some(user.id));
    state.audit.read(&source, entry).await?;
    Ok(Json(list))
}

/// Starts a conversation about a topic with a member of the caller's care relationships, or
/// returns the open one that already exists between the two (200; the given subject and topic
/// are then ignored). A patient's new request must also pass the doctor's intake setting.
#[utoipa::path(
    post,
    path = "/api/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    request_body = StartConversationRequest,
    responses(
        (status = 201, description = "Created", body = ConversationSummary),
        (status = 200, description = "The open conversation that already existed", body = ConversationSummary),
        (status = 400, description = "Malformed body or subject, missing or unknown topic", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "No care relationship with that user (`no_care_relationship`); the doctor takes no new request from this patient (`intake_closed`) or blocked them (`patient_blocked`)", body = ApiError),
    )
)]
#[tracing::instrument(name = "start_conversation", skip_all, fields(user = %user.id))]
pub async fn start(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<StartConversationRequest>,
) -> Result<(StatusCode, Json<ConversationSummary>), AppError> {
    let subject = Subject::parse(request.subject.as_deref())?;
    let result =
        chat::start_conversation(&state, &user, request.with_user_id, &subject, request.topic)
            .await;
    let (summary, created) = audited(&state, &source, &user, None, None, result).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(summary)))
}

/// One conversation, as the caller sees it.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id")),
    responses(
        (status = 200, description = "The conversation", body = ConversationSummary),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "show_conversation", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn show(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<ConversationSummary>, AppError> {
    let result = chat::summary_for(&state.store, &user, id).await;
    let opened = Some(Action::ConversationOpened);
    Ok(Json(
        audited(&state, &source, &user, Some(id), opened, result).await?,
    ))
}

/// A page of history in ascending seq order: the latest messages, or those `before` a seq
/// (scrolling up), or those `after` one (catching up), or with both, those between the two
/// from `after` on. `limit` is clamped to 1..=100.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/messages",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id"), HistoryQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, description = "A query field that is not of its type, or that the route does not know (`invalid_input`); a negative position (`invalid_cursor`)", body = ApiError),
        (status = 409, description = "`after` past the conversation's last message (`invalid_cursor`): the client's state does not match the server's; reload the conversation", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "history", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn history(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<MessagePage>, AppError> {
    let result = read_history(&state, &user, id, &query).await;
    let read = Some(Action::HistoryRead);
    Ok(Json(
        audited(&state, &source, &user, Some(id), read, result).await?,
    ))
}

async fn read_history(
    state: &AppState,
    user: &AuthUser,
    id: ConversationId,
    query: &HistoryQuery,
) -> Result<MessagePage, AppError> {
    let page = Page::from_query(query);
    if [query.before, query.after]
        .into_iter()
        .flatten()
        .any(|seq| seq.0 < 0)
    {
        return Err(AppError::InvalidCursor(
            "history positions are not negative".into(),
        ));
    }
    let limit = query
        .limit
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let conversation = state
        .store
        .conversation_for(id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    // A cursor past the end is not "nothing new": the client's state is wrong (another
    // server's data, a restored backup). Saying so lets it reload that conversation cleanly.
    if let Some(after) = query.after
        && after > conversation.last_seq
    {
        return Err(AppError::CursorPastEnd);
    }
    let (messages, has_more) = state.store.messages_page(id, page, limit).await?;
    Ok(MessagePage { messages, has_more })
}

/// Records a successful read (`success`: before it is answered, or the read fails with 503) or
/// counts a refused access to an object, then passes the result on.
pub(super) async fn audited<T>(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    conversation: Option<ConversationId>,
    success: Option<Action>,
    result: Result<T, AppError>,
) -> Result<T, AppError> {
    let action = match &result {
        Ok(_) => success,
        Err(error) if error.is_access_denial() => Some(Action::AccessDenied),
        Err(_) => None,
    };
    if let Some(action) = action {
        let mut entry = Entry::new(action, Some(user.id));
        entry.conversation_id = conversation;
        match &result {
            Ok(_) => state.audit.read(source, entry).await?,
            Err(error) => state
                .audit
                .refused(source, &entry.detail(format!("{:?}", error.code()))),
        }
    }
    result
}

/// Sends a message. Idempotent on the caller's `client_id`: a retry returns the stored message
/// with 200 instead of 201 and stores nothing.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/messages",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id")),
    request_body = SendMessageRequest,
    responses(
        (status = 201, description = "Stored", body = Message),
        (status = 200, description = "Already stored under this client_id (replay)", body = Message),
        (status = 400, description = "Malformed (`invalid_json`), empty (`empty_body`) or too long (`body_too_long`); more attachments than a message carries (`too_many_attachments`) or one listed twice (`invalid_input`)", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The two participants are no longer in a care relationship, or one of them is disabled (`no_care_relationship`); the doctor blocked this patient (`patient_blocked`); a doctor's message marked `urgent` or a patient's citing a `template_id` (`forbidden`)", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
        (status = 409, description = "The conversation is closed (`conversation_closed`), the client_id was already used in another conversation (`invalid_input`), or an attachment was already sent with another message (`attachment_already_sent`)", body = ApiError),
        (status = 422, description = "An attachment id that is not one of the caller's uploads, or a `template_id` that is neither the caller's template nor a shared one (`unknown_reference`)", body = ApiError),
        (status = 429, description = "Over the per-user send rate", body = ApiError),
    )
)]
#[tracing::instrument(name = "send_message", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn send(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let body = MessageBody::parse(&request.body)?;
    let outgoing = chat::Outgoing {
        conversation_id: id,
        client_id: request.client_id,
        body,
        urgent: request.urgent.then(|| source.clone()),
        attachments: request.attachment_ids,
        template: request.template_id.map(|id| (id, source.clone())),
    };
    let result = chat::send_message(&state, &user, outgoing, None).await;
    let sent = audited(&state, &source, &user, Some(id), None, result).await?;
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(sent.message)))
}

/// Moves the caller's read cursor forward (never back; clamped to the latest message).
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/read",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id")),
    request_body = MarkReadRequest,
    responses(
        (status = 200, description = "The caller's cursor after the call", body = ReadCursor),
        (status = 400, description = "Malformed body or negative seq", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
    )
)]
#[tracing::instrument(name = "mark_read", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn mark_read(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<MarkReadRequest>,
) -> Result<Json<ReadCursor>, AppError> {
    let result = chat::mark_read(&state, &user, id, request.seq, None).await;
    Ok(Json(
        audited(&state, &source, &user, Some(id), None, result).await?,
    ))
}

/// Moves the caller's delivery cursor forward: their device holds the conversation up to
/// `seq` (the "Reçu" step of the other participant's messages). Never back; clamped to the
/// latest message. The REST twin of the socket's `received` frame, for a device without a
/// socket.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/received",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id")),
    request_body = MarkReadRequest,
    responses(
        (status = 200, description = "The caller's delivery cursor after the call", body = ReadCursor),
        (status = 400, description = "Malformed body or negative seq", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
    )
)]
#[tracing::instrument(name = "mark_received", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn mark_received(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<MarkReadRequest>,
) -> Result<Json<ReadCursor>, AppError> {
    let kind = chat::CursorKind::Delivered;
    let result = chat::move_cursor(&state, &user, kind, id, request.seq, None).await;
    Ok(Json(
        audited(&state, &source, &user, Some(id), None, result).await?,
    ))
}

/// Closes a conversation with a reason: it stays readable, nobody can write to it, and a
/// system line with the reason takes the next seq. Its doctor only. Idempotent.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/close",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id")),
    request_body = CloseConversationRequest,
    responses(
        (status = 200, description = "The closed conversation (`triage`: `done`)", body = ConversationSummary),
        (status = 400, description = "Missing, blank or too long reason", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is the patient", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
    )
)]
#[tracing::instrument(name = "close_conversation", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn close(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<CloseConversationRequest>,
) -> Result<Json<ConversationSummary>, AppError> {
    let reason = CloseReason::parse(&request.reason)?;
    let result = chat::close_conversation(&state, &source, &user, id, &reason).await;
    Ok(Json(
        audited(&state, &source, &user, Some(id), None, result).await?,
    ))
}

/// Reopens a closed conversation (in progress again, with a system line). Its doctor only.
/// Idempotent.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/reopen",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id")),
    responses(
        (status = 200, description = "The open conversation (`triage`: `in_progress`)", body = ConversationSummary),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is the patient, or the care relationship ended (`no_care_relationship`)", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
        (status = 409, description = "Another conversation of the two is open (`open_conversation_exists`)", body = ApiError),
    )
)]
#[tracing::instrument(name = "reopen_conversation", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn reopen(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<ConversationSummary>, AppError> {
    let result = chat::reopen_conversation(&state, &source, &user, id).await;
    Ok(Json(
        audited(&state, &source, &user, Some(id), None, result).await?,
    ))
}

/// Moves an open conversation in its doctor's queue: `new`, `in_progress` or
/// `waiting_patient` (`done` is `…/close`, with a reason). Its doctor only.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/triage",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The conversation id")),
    request_body = SetTriageRequest,
    responses(
        (status = 200, description = "The conversation in its new state", body = ConversationSummary),
        (status = 400, description = "Malformed body, or `done` (closing takes a reason)", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is the patient", body = ApiError),
        (status = 404, description = "No such conversation, or the caller does not take part", body = ApiError),
        (status = 409, description = "The conversation is closed (`conversation_closed`): reopen it first", body = ApiError),
    )
)]
#[tracing::instrument(name = "set_triage", skip_all, fields(user = %user.id, conversation = %id))]
pub async fn triage(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<SetTriageRequest>,
) -> Result<Json<ConversationSummary>, AppError> {
    let result = chat::set_triage(&state, &source, &user, id, request.state).await;
    Ok(Json(
        audited(&state, &source, &user, Some(id), None, result).await?,
    ))
}
