//! Reply templates (issue 12): a doctor's ready-made answers, personal or shared with every
//! doctor, with variables the doctor's composer fills before sending.
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | GET | `/api/me/templates` | – | `Vec<`[`ReplyTemplate`]`>` (doctors: their own and the shared ones) |
//! | POST | `/api/me/templates` | [`TemplateRequest`] | [`ReplyTemplate`] (201, doctors) |
//! | PUT | `/api/templates/{id}` | [`TemplateRequest`] | [`ReplyTemplate`] (its owner) |
//! | DELETE | `/api/templates/{id}` | – | 204 (its owner) |
//!
//! Who may do what: a patient gets 403 `forbidden` on every route. A doctor sees their own
//! templates and every shared one. Only the owner edits or deletes a template: another doctor
//! gets 403 `forbidden` for a shared template (they can see it) and 404 `not_found` for a
//! personal one (they cannot know it exists).
//!
//! A message sent from a template cites it ([`crate::SendMessageRequest::template_id`]): the
//! message row and the audit trail keep which template it came from.
//!
//! Variables are written in braces, in French: [`TEMPLATE_VARIABLES`]. The server stores them
//! as typed; the app fills them in the composer, where the doctor sees and edits the final
//! text.

use serde::{Deserialize, Serialize};

/// The longest template title, in characters, after trimming.
pub const MAX_TEMPLATE_TITLE_CHARS: usize = 80;

/// The longest template body, in characters, after trimming (variables as typed).
pub const MAX_TEMPLATE_BODY_CHARS: usize = 4_000;

/// How many templates one doctor may own (personal and shared together).
pub const MAX_TEMPLATES_PER_DOCTOR: usize = 100;

/// The variables a template may contain, in braces: the patient's first name, their last name,
/// the date of their next appointment, the doctor's name.
pub const TEMPLATE_VARIABLES: [&str; 4] = ["prénom", "nom", "date_rdv", "médecin"];

/// A reply template, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct TemplateId(pub i64);

impl std::fmt::Display for TemplateId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An optional [`TemplateId`], from `3`, `3.0` or `null`: a number with no fraction is an
/// integer, as for the other ids (`crate::ids::integral`).
pub(crate) fn option_template_id<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<TemplateId>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "crate::ids::integral::integer")] i64);
    let whole: Option<Whole> = Deserialize::deserialize(deserializer)?;
    Ok(whole.map(|Whole(value)| TemplateId(value)))
}

/// A reply template (`GET /api/me/templates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyTemplate {
    /// Its id (to edit, delete or cite it).
    pub id: TemplateId,
    /// The doctor who wrote it (the only one who may edit or delete it).
    pub owner: crate::UserProfile,
    /// A short title, shown in the composer's list.
    pub title: String,
    /// The text, with variables in braces ([`TEMPLATE_VARIABLES`]).
    pub body: String,
    /// Every doctor sees and may use it; otherwise only its owner.
    pub shared: bool,
}

/// `POST /api/me/templates` and `PUT /api/templates/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateRequest {
    /// 1 to [`MAX_TEMPLATE_TITLE_CHARS`] characters after trimming, no control character.
    pub title: String,
    /// 1 to [`MAX_TEMPLATE_BODY_CHARS`] characters after trimming.
    pub body: String,
    /// Shared with every doctor. Absent means false.
    #[serde(default)]
    pub shared: bool,
}
