//! The checks of one send of a batch against the rows read in the batch's transaction: its
//! uploads and the reply template it cites, and the answer to a replay (`super` decides, in queue order, what each send
//! does).

use super::{Request, Sent};
use crate::error::AppError;
use crate::store;
use colloque_protocol::{AttachmentId, ConversationId, Message};
use std::collections::{HashMap, HashSet};

/// A send's uploads must all be the sender's own, not sent yet, and not claimed by an earlier
/// send of the batch: another user's upload (or none of this id) is 422 `unknown_reference`,
/// exactly as if it did not exist; one of the sender's already sent is 409.
pub(super) fn check_uploads(
    request: &Request,
    uploads: &HashMap<AttachmentId, &store::AttachmentRow>,
    claimed: &HashSet<AttachmentId>,
) -> Result<(), AppError> {
    for id in &request.attachments {
        let row = uploads
            .get(id)
            .filter(|row| row.owner == request.sender)
            .ok_or(AppError::UnknownReference(
                "an attachment id that is not one of your uploads",
            ))?;
        if row.message.is_some() || claimed.contains(id) {
            return Err(AppError::AttachmentAlreadySent);
        }
    }
    Ok(())
}

/// A send's template, if it cites one: only a doctor may (a patient: 403), and only their own
/// or a shared one (another doctor's personal template, or none of this id: 422
/// `unknown_reference`, exactly as if it did not exist).
pub(super) fn check_template(
    request: &Request,
    from_patient: bool,
    templates: &[store::TemplateOwner],
) -> Result<(), AppError> {
    let Some((id, _)) = &request.template else {
        return Ok(());
    };
    if from_patient {
        return Err(AppError::Forbidden(
            "only a doctor can send from a template",
        ));
    }
    templates
        .iter()
        .find(|row| row.id == *id && (row.owner == request.sender || row.shared))
        .map(|_| ())
        .ok_or(AppError::UnknownReference(
            "a template_id that is neither your template nor a shared one",
        ))
}

/// The answer to a send whose (sender, client id) is already stored in `stored_in`.
pub(super) fn replay(
    request: &Request,
    stored_in: ConversationId,
    message: impl FnOnce() -> Message,
) -> Result<Sent, AppError> {
    if stored_in == request.conversation_id {
        Ok(Sent {
            message: message(),
            created: false,
            follow_up: false,
        })
    } else {
        Err(reused_client_id())
    }
}

pub(super) fn reused_client_id() -> AppError {
    AppError::ClientIdReused
}
