//! Reply templates (issue 12, doctors): the doctor's own and the shared ones.

use super::requests::{Api, Error, request};
use colloque_protocol::{ReplyTemplate, TemplateId, TemplateRequest};
use gloo_net::http::Method;

/// `GET /api/me/templates`: the doctor's templates and every shared one, by title.
pub async fn get_templates(api: &Api) -> Result<Vec<ReplyTemplate>, Error> {
    request::<(), _>(api, Method::GET, "/me/templates", &[], None).await
}

/// `POST /api/me/templates`.
pub async fn create_template(api: &Api, new: &TemplateRequest) -> Result<ReplyTemplate, Error> {
    request(api, Method::POST, "/me/templates", &[], Some(new)).await
}

/// `PUT /api/templates/{id}` (its owner only).
pub async fn update_template(
    api: &Api,
    id: TemplateId,
    update: &TemplateRequest,
) -> Result<ReplyTemplate, Error> {
    let path = format!("/templates/{id}");
    request(api, Method::PUT, &path, &[], Some(update)).await
}

/// `DELETE /api/templates/{id}` (its owner only).
pub async fn delete_template(api: &Api, id: TemplateId) -> Result<(), Error> {
    let path = format!("/templates/{id}");
    request::<(), _>(api, Method::DELETE, &path, &[], None).await
}
