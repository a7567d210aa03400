//! Conversations and messages over REST. The WebSocket ([`super::websocket`]) carries the
//! live traffic; these calls load lists and history, and stand in for it when it is down.

use super::requests::{Api, Error, request};
use colloque_protocol::{
    AttachmentId, ClientMsgId, ConversationId, ConversationSummary, MAX_PAGE_SIZE, MarkReadRequest,
    Message, MessagePage, ReadCursor, SendMessageRequest, Seq, StartConversationRequest,
    TemplateId, Topic, UserId,
};
use gloo_net::http::Method;

/// `GET /api/conversations`: the viewer's conversations. Role-aware on the server, so doctors
/// and patients both call this one (the original app's patient-only copy was dropped).
pub async fn get_medecin_conversations(api: &Api) -> Result<Vec<ConversationSummary>, Error> {
    request::<(), _>(api, Method::GET, "/conversations", &[], None).await
}

/// `GET /api/conversations/{id}`.
pub async fn get_conversation(
    api: &Api,
    conversation: ConversationId,
) -> Result<ConversationSummary, Error> {
    request::<(), _>(
        api,
        Method::GET,
        &format!("/conversations/{conversation}"),
        &[],
        None,
    )
    .await
}

/// The latest page of a conversation.
pub async fn get_conversation_messages(
    api: &Api,
    conversation: ConversationId,
) -> Result<MessagePage, Error> {
    messages(api, conversation, &[]).await
}

/// The page just before `before` (older history, when scrolling up).
pub async fn get_message_history(
    api: &Api,
    conversation: ConversationId,
    before: Seq,
) -> Result<MessagePage, Error> {
    messages(api, conversation, &[("before", before.to_string())]).await
}

/// The first page (the largest the server allows) after `after`: catching up after a
/// reconnect, a page at a time until `has_more` is false. An `after` beyond the last message
/// is refused with `invalid_cursor`.
pub async fn get_messages_after(
    api: &Api,
    conversation: ConversationId,
    after: Seq,
) -> Result<MessagePage, Error> {
    messages(
        api,
        conversation,
        &[
            ("after", after.to_string()),
            ("limit", MAX_PAGE_SIZE.to_string()),
        ],
    )
    .await
}

async fn messages(
    api: &Api,
    conversation: ConversationId,
    query: &[(&str, String)],
) -> Result<MessagePage, Error> {
    let path = format!("/conversations/{conversation}/messages");
    request::<(), _>(api, Method::GET, &path, query, None).await
}

/// `POST /api/conversations/{id}/messages`: idempotent on `client_id`. `urgent`: a patient
/// sends it past the red-flag screen; `attachment_ids`: files uploaded before; `template_id`: the reply template a doctor's text came
/// from.
pub async fn send_message_to_conversation(
    api: &Api,
    conversation: ConversationId,
    client_id: ClientMsgId,
    body: &str,
    urgent: bool,
    attachment_ids: Vec<AttachmentId>,
    template_id: Option<TemplateId>,
) -> Result<Message, Error> {
    let body = SendMessageRequest {
        client_id,
        body: body.to_owned(),
        urgent,
        attachment_ids,
        template_id,
    };
    let path = format!("/conversations/{conversation}/messages");
    request(api, Method::POST, &path, &[], Some(&body)).await
}

/// `POST /api/conversations`: opens (or finds) the conversation with a care partner, about
/// `topic`.
pub async fn start_conversation(
    api: &Api,
    with_user_id: UserId,
    topic: Topic,
) -> Result<ConversationSummary, Error> {
    let body = StartConversationRequest {
        with_user_id,
        subject: None,
        topic,
    };
    request(api, Method::POST, "/conversations", &[], Some(&body)).await
}

/// `POST /api/conversations/{id}/read`.
pub async fn mark_read(
    api: &Api,
    conversation: ConversationId,
    seq: Seq,
) -> Result<ReadCursor, Error> {
    let path = format!("/conversations/{conversation}/read");
    request(
        api,
        Method::POST,
        &path,
        &[],
        Some(&MarkReadRequest { seq }),
    )
    .await
}
