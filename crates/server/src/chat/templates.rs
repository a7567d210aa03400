//! Reply templates (issue 12): a doctor's own and the shared ones. Each write is authorized to
//! the template's owner and audited in its transaction (never its title nor its text); which
//! template a message came from is checked and recorded by the send
//! ([`super::send_queue`]).
//!
//! Who may do what (docs/protocol.md, "Reply templates"): a patient gets 403 `forbidden`
//! everywhere; a doctor lists their own templates and every shared one; only the owner edits
//! or deletes a template — another doctor gets 403 `forbidden` for a shared one (they can see
//! it) and 404 for a personal one (they cannot know it exists).

use super::detached;
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::domain::{TemplateBody, TemplateTitle};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{NewTemplate, Tx};
use crate::util::now_ms;
use colloque_protocol::{
    MAX_TEMPLATES_PER_DOCTOR, ReplyTemplate, Role, TemplateId, TemplateRequest,
};

fn doctor_only(user: &AuthUser) -> Result<(), AppError> {
    match user.role {
        Role::Doctor => Ok(()),
        Role::Patient => Err(AppError::Forbidden("only doctors have reply templates")),
    }
}

/// A request's title and body, parsed.
struct Parsed {
    title: TemplateTitle,
    body: TemplateBody,
    shared: bool,
}

impl Parsed {
    fn new(request: &TemplateRequest) -> Result<Self, AppError> {
        Ok(Self {
            title: TemplateTitle::parse(&request.title)?,
            body: TemplateBody::parse(&request.body)?,
            shared: request.shared,
        })
    }

    fn to_store(&self) -> NewTemplate<'_> {
        NewTemplate {
            title: self.title.as_str(),
            body: self.body.as_str(),
            shared: self.shared,
        }
    }
}

fn described(id: TemplateId, shared: bool) -> String {
    let kind = if shared { "shared" } else { "personal" };
    format!("template {id}, {kind}")
}

/// The templates the caller (a doctor) may use: their own and the shared ones, by title.
pub async fn templates(state: &AppState, user: &AuthUser) -> Result<Vec<ReplyTemplate>, AppError> {
    doctor_only(user)?;
    Ok(state.store.templates_visible_to(user.id).await?)
}

/// Stores a new template of the caller's (a doctor's), at most
/// [`MAX_TEMPLATES_PER_DOCTOR`]; audited.
pub async fn create_template(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    request: &TemplateRequest,
) -> Result<ReplyTemplate, AppError> {
    doctor_only(user)?;
    let parsed = Parsed::new(request)?;
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        tx.lock_user_collections(user.id).await?;
        let owned = tx.count_templates(user.id).await?;
        if usize::try_from(owned).unwrap_or(usize::MAX) >= MAX_TEMPLATES_PER_DOCTOR {
            return Err(AppError::LimitReached(format!(
                "at most {MAX_TEMPLATES_PER_DOCTOR} templates per doctor"
            )));
        }
        let id = tx
            .insert_template(user.id, &parsed.to_store(), now_ms())
            .await?;
        let entry =
            Entry::new(Action::TemplateCreated, Some(user.id)).detail(described(id, parsed.shared));
        tx.audit(&source, &entry).await?;
        let template = stored(&mut tx, id).await?;
        tx.commit().await?;
        Ok(template)
    })
    .await
}

/// Replaces a template of the caller's; audited. Another doctor's: 403 if shared, else 404.
pub async fn update_template(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: TemplateId,
    request: &TemplateRequest,
) -> Result<ReplyTemplate, AppError> {
    doctor_only(user)?;
    let parsed = Parsed::new(request)?;
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        owned_by(&mut tx, &user, id).await?;
        if !tx
            .update_template(user.id, id, &parsed.to_store(), now_ms())
            .await?
        {
            return Err(AppError::NotFound);
        }
        let entry =
            Entry::new(Action::TemplateUpdated, Some(user.id)).detail(described(id, parsed.shared));
        tx.audit(&source, &entry).await?;
        let template = stored(&mut tx, id).await?;
        tx.commit().await?;
        Ok(template)
    })
    .await
}

/// Deletes a template of the caller's; audited. Another doctor's: 403 if shared, else 404.
/// Messages sent from it keep its id.
pub async fn delete_template(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: TemplateId,
) -> Result<(), AppError> {
    doctor_only(user)?;
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        owned_by(&mut tx, &user, id).await?;
        if !tx.delete_template(user.id, id).await? {
            return Err(AppError::NotFound);
        }
        let entry =
            Entry::new(Action::TemplateDeleted, Some(user.id)).detail(format!("template {id}"));
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// The caller owns template `id`: else 403 for another doctor's shared template (which the
/// caller can see), 404 for a personal one or none.
async fn owned_by(tx: &mut Tx, user: &AuthUser, id: TemplateId) -> Result<(), AppError> {
    match tx.template(id).await? {
        Some(template) if template.owner.id == user.id => Ok(()),
        Some(template) if template.shared => Err(AppError::Forbidden(
            "only its author may change a shared template",
        )),
        _ => Err(AppError::NotFound),
    }
}

async fn stored(tx: &mut Tx, id: TemplateId) -> Result<ReplyTemplate, AppError> {
    tx.template(id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("template {id} vanished")))
}
