//! `GET /api/openapi.json`: generated from the handlers' `#[utoipa::path]` attributes and the
//! protocol crate's types, so it cannot drift from the code, then completed by
//! [`super::openapi_contract`] with what those attributes cannot say.

use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// The OpenAPI 3.1 document of this API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Colloque API",
        description = "Secure patient–doctor messaging. Real-time events use the WebSocket at /ws; \
                       its frames (ClientFrame, ServerFrame) are listed among the schemas. \
                       See docs/protocol.md."
    ),
    paths(
        super::auth::login,
        super::auth::login_mfa,
        super::auth::refresh,
        super::auth::logout,
        super::sessions::list,
        super::sessions::end,
        super::sessions::change_password,
        super::mfa::status,
        super::mfa::enrol,
        super::mfa::confirm,
        super::mfa::disable,
        super::people::me,
        super::people::care_team,
        super::people::patients,
        super::conversations::list,
        super::conversations::start,
        super::conversations::show,
        super::conversations::history,
        super::conversations::send,
        super::conversations::mark_read,
        super::conversations::mark_received,
        super::conversations::close,
        super::conversations::reopen,
        super::conversations::triage,
        super::intake::settings,
        super::intake::update,
        super::intake::block,
        super::intake::unblock,
        super::intake::statuses,
        super::hours::settings,
        super::hours::update,
        super::hours::add_absence,
        super::hours::delete_absence,
        super::hours::colleagues,
        super::templates::list,
        super::templates::create,
        super::templates::update,
        super::templates::delete,
        super::attachments::upload,
        super::attachments::download,
        super::attachments::thumbnail,
        super::attachments::conversation_documents,
        super::attachments::my_documents,
        super::notifications::read,
        super::notifications::update,
        super::notifications::unsubscribe,
        super::notifications::confirm_page,
        super::typing::read,
        super::typing::update,
        super::push::key,
        super::push::list,
        super::push::subscribe,
        super::push::unsubscribe,
        super::appointments::list,
        super::health::health,
        openapi_json,
    ),
    components(schemas(
        colloque_protocol::ClientFrame,
        colloque_protocol::ServerFrame,
        colloque_protocol::ErrorCode,
    )),
    modifiers(&BearerToken),
    tags(
        (name = "auth", description = "Sessions, refresh, password and multi-factor authentication"),
        (name = "people", description = "The caller, their doctors or patients"),
        (name = "conversations", description = "Conversations and messages"),
        (name = "care", description = "Who may write to a doctor, office hours, absences, reply templates"),
        (name = "attachments", description = "Files sent with messages, and the Documents lists"),
        (name = "notifications", description = "Notification choices, the e-mails' one-click unsubscribe, Web Push subscriptions"),
        (name = "appointments", description = "Appointments"),
        (name = "health", description = "Monitoring"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document this server serves.
pub fn document() -> serde_json::Value {
    let generated =
        serde_json::to_value(ApiDoc::openapi()).expect("an OpenAPI document serializes");
    super::openapi_contract::complete(generated)
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "health",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<serde_json::Value> {
    Json(document())
}
