//! Attachments (issue 13): files uploaded before a message is sent, then sent with it by id.
//!
//! An upload is checked here before anything is stored: its type sniffed from its bytes
//! ([`sniff`]), its metadata removed ([`strip`], [`heif`]), hashed (SHA-256: identical bytes
//! are stored once), thumbnailed ([`thumbnail`]), then the content and its record are written
//! in one transaction, within the uploader's quota. Sending links uploads to the message in
//! the message's own transaction (`chat::send_queue`). Reads are allowed to the uploader
//! before sending and to the two participants after, and to nobody else (404). See
//! docs/attachments.md.

pub mod heif;
pub mod sniff;
pub mod strip;
pub mod thumbnail;

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{AttachmentRow, NewAttachment};
use crate::util::now_ms;
use colloque_protocol::{AttachmentId, AttachmentMeta, AttachmentType, ConversationId};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The attachment limits (`--max-attachment-bytes`, `--max-attachments-per-message`,
/// `--attachment-quota-bytes`).
#[derive(Debug, Clone)]
pub struct AttachmentLimits {
    /// The largest file accepted, in bytes (as uploaded, before its metadata is removed).
    pub max_file_bytes: usize,
    /// The most attachments one message may carry.
    pub per_message: usize,
    /// The bytes one user's uploads may take in all (sent or not).
    pub quota_bytes: u64,
    /// An upload not sent within this is deleted.
    pub unsent_ttl: Duration,
    /// How often unsent uploads past their time are deleted.
    pub sweep: Duration,
    /// The slowest an upload's bytes may arrive, on average, once the request deadline
    /// (`http_request_timeout`) has passed: an upload is not held to the 30 s of other
    /// requests, but one that falls behind this rate is cut (408 `upload_too_slow`), so a
    /// client trickling bytes cannot hold a connection and its buffer for long.
    pub min_upload_bytes_per_second: u64,
}

/// 10 kB/s (80 kbit/s, below a poor 2G/EDGE phone link's upload): a 10 MB file may take up to
/// 30 s + 1,000 s (about 17 minutes) to arrive.
pub const DEFAULT_MIN_UPLOAD_BYTES_PER_SECOND: u64 = 10_000;

impl Default for AttachmentLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 10 * 1000 * 1000,
            per_message: colloque_protocol::MAX_ATTACHMENTS_PER_MESSAGE,
            quota_bytes: 200 * 1000 * 1000,
            unsent_ttl: Duration::from_secs(24 * 60 * 60),
            sweep: Duration::from_secs(60 * 60),
            min_upload_bytes_per_second: DEFAULT_MIN_UPLOAD_BYTES_PER_SECOND,
        }
    }
}

impl AttachmentLimits {
    /// What is accepted, in words, for every refusal's message.
    pub fn accepted(&self) -> String {
        format!(
            "accepted: PDF, JPEG, PNG and HEIC/HEIF files of at most {} each, at most {} per \
             message, {} in all per user",
            megabytes(self.max_file_bytes as u64),
            self.per_message,
            megabytes(self.quota_bytes)
        )
    }

    /// The refusal of a file over the size limit (413).
    pub fn too_large(&self) -> AppError {
        AppError::FileTooLarge(format!("the file is too large; {}", self.accepted()))
    }

    /// The refusal of an upload that fell behind the minimum rate (408).
    pub fn too_slow(&self) -> AppError {
        AppError::UploadTooSlow(format!(
            "the file arrived too slowly (under {} bytes per second); nothing was stored: \
             retry on a better connection",
            self.min_upload_bytes_per_second
        ))
    }

    /// When the next bytes of an upload that started reading at `started` and has
    /// `received` bytes so far must have come: `grace` (the usual request deadline) plus the
    /// time the minimum rate gives those bytes. A 10 MB file therefore has `grace` + 1,000 s
    /// at the default rate, and a stalled or trickling client is cut as soon as it falls
    /// behind.
    pub fn next_bytes_due(
        &self,
        started: tokio::time::Instant,
        received: usize,
        grace: Duration,
    ) -> tokio::time::Instant {
        let rate = self.min_upload_bytes_per_second.max(1);
        let earned = Duration::from_millis((received as u64).saturating_mul(1000) / rate);
        started + grace + earned
    }
}

fn megabytes(bytes: u64) -> String {
    if bytes.is_multiple_of(1_000_000) {
        format!("{} MB", bytes / 1_000_000)
    } else {
        format!("{bytes} bytes")
    }
}

/// Thumbnails and metadata stripping run on the blocking pool; at most this many at once, so
/// that a burst of uploads cannot hold many decoded images in memory together.
pub fn processing_slots() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(2))
}

/// An upload ready to store.
#[derive(Debug)]
pub struct Prepared {
    /// The sniffed type.
    pub kind: AttachmentType,
    /// The bytes to store (metadata removed).
    pub bytes: Vec<u8>,
    /// Their SHA-256, hex.
    pub sha256: String,
    /// A JPEG thumbnail (JPEG and PNG).
    pub thumbnail: Option<Vec<u8>>,
}

/// Why an upload was refused before anything was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of the accepted types, by its bytes.
    UnsupportedType,
    /// Of an accepted type, but not well formed (its metadata could not be removed safely).
    Unreadable,
}

/// Sniffs, strips and hashes an upload (no thumbnail: see [`prepare`]). Pure; never panics on
/// any input (a property test feeds it arbitrary bytes).
pub fn sanitize(raw: &[u8]) -> Result<(AttachmentType, Vec<u8>), Refusal> {
    let kind = sniff::sniff(raw).ok_or(Refusal::UnsupportedType)?;
    let bytes = match kind {
        AttachmentType::Pdf => raw.to_vec(),
        AttachmentType::Jpeg => strip::strip_jpeg(raw).map_err(|_| Refusal::Unreadable)?,
        AttachmentType::Png => strip::strip_png(raw).map_err(|_| Refusal::Unreadable)?,
        AttachmentType::Heic | AttachmentType::Heif => {
            heif::strip_heif(raw).map_err(|_| Refusal::Unreadable)?
        }
    };
    Ok((kind, bytes))
}

/// [`sanitize`], then the hash (no thumbnail yet: it is made only for contents not stored
/// before).
pub fn prepare(raw: &[u8]) -> Result<Prepared, Refusal> {
    let (kind, bytes) = sanitize(raw)?;
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(Prepared {
        kind,
        bytes,
        sha256,
        thumbnail: None,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file name for display, trimmed: 1 to 255 characters, without control characters nor
/// path separators (a browser's `File.name` has none; a path is refused rather than guessed at).
pub fn parse_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0
        || count > crate::routes::MAX_ATTACHMENT_NAME_CHARS
        || name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(AppError::InvalidInput(format!(
            "name must be 1 to {} characters, without control characters nor / or \\",
            crate::routes::MAX_ATTACHMENT_NAME_CHARS
        )));
    }
    Ok(name.to_owned())
}

/// A name whose extension names another accepted type than the content is refused (a PDF
/// named `.jpg`, an HTML page named `.png`: someone is being misled). A name without an
/// extension, or with one of no accepted type (`scan`, `photo.jpeg.txt`), is only a label.
pub fn check_name(
    name: &str,
    kind: AttachmentType,
    limits: &AttachmentLimits,
) -> Result<(), AppError> {
    let Some((_, extension)) = name.rsplit_once('.') else {
        return Ok(());
    };
    let claimed = match extension.to_ascii_lowercase().as_str() {
        "pdf" => AttachmentType::Pdf,
        "jpg" | "jpeg" | "jpe" | "jfif" => AttachmentType::Jpeg,
        "png" => AttachmentType::Png,
        "heic" | "heif" | "hif" => {
            return match kind {
                AttachmentType::Heic | AttachmentType::Heif => Ok(()),
                _ => Err(mismatch(kind, limits)),
            };
        }
        _ => return Ok(()),
    };
    if claimed == kind {
        Ok(())
    } else {
        Err(mismatch(kind, limits))
    }
}

fn mismatch(kind: AttachmentType, limits: &AttachmentLimits) -> AppError {
    AppError::UnsupportedFileType(format!(
        "the file's name says another type than its content ({}); {}",
        kind.mime(),
        limits.accepted()
    ))
}

impl Refusal {
    /// The answer (415 `unsupported_file_type`, listing what is accepted).
    pub fn into_error(self, limits: &AttachmentLimits) -> AppError {
        let what = match self {
            Refusal::UnsupportedType => "this type of file is not accepted",
            Refusal::Unreadable => "the file could not be read as the image its content says",
        };
        AppError::UnsupportedFileType(format!("{what}; {}", limits.accepted()))
    }
}

/// Checks, strips and stores an upload of `raw` named `name` for `user`: one transaction for
/// the content and its record, within the quota. Returns what participants will see.
pub async fn upload(
    state: &AppState,
    user: &AuthUser,
    name: &str,
    raw: Vec<u8>,
) -> Result<AttachmentMeta, AppError> {
    let limits = &state.limits.attachments;
    if raw.len() > limits.max_file_bytes {
        return Err(limits.too_large());
    }
    let _slot = state
        .attachment_slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("the upload slots are closed")))?;
    let mut prepared = tokio::task::spawn_blocking(move || prepare(&raw))
        .await
        .map_err(|error| AppError::Internal(anyhow::Error::new(error)))?
        .map_err(|refusal| refusal.into_error(limits))?;
    check_name(name, prepared.kind, limits)?;
    if !state.store.attachment_blob_exists(&prepared.sha256).await? {
        prepared = tokio::task::spawn_blocking(move || {
            prepared.thumbnail = thumbnail::thumbnail(prepared.kind, &prepared.bytes);
            prepared
        })
        .await
        .map_err(|error| AppError::Internal(anyhow::Error::new(error)))?;
    }
    let id = AttachmentId(uuid::Uuid::new_v4());
    let meta = AttachmentMeta {
        id,
        name: name.to_owned(),
        content_type: prepared.kind,
        size: prepared.bytes.len() as u64,
        has_thumbnail: false,
    };
    let (state2, user_id, name) = (state.clone(), user.id, name.to_owned());
    let has_thumbnail = crate::chat::detached(async move {
        let state = state2;
        let limits = &state.limits.attachments;
        let now = now_ms();
        let mut tx = state.store.begin_write().await?;
        let used = u64::try_from(tx.attachment_bytes_used(user_id).await?).unwrap_or(0);
        if used + prepared.bytes.len() as u64 > limits.quota_bytes {
            return Err(AppError::QuotaExceeded(format!(
                "this file would take you over your storage quota; {}",
                limits.accepted()
            )));
        }
        tx.insert_attachment_blob(
            &prepared.sha256,
            &prepared.bytes,
            prepared.thumbnail.as_deref(),
            now,
        )
        .await?;
        tx.insert_attachment(&NewAttachment {
            id,
            owner: user_id,
            sha256: &prepared.sha256,
            content_type: prepared.kind,
            name: &name,
            size: prepared.bytes.len() as u64,
            now,
        })
        .await?;
        // A content stored before keeps its thumbnail: ask the row, not this upload.
        let row = tx.attachments_by_ids(&[id]).await?;
        tx.commit().await?;
        Ok(row.first().is_some_and(|row| row.meta.has_thumbnail))
    })
    .await?;
    Ok(AttachmentMeta {
        has_thumbnail,
        ..meta
    })
}

/// The attachment `id` if `user` may read it, else 404 (whether or not it exists).
pub async fn visible(
    state: &AppState,
    user: &AuthUser,
    id: AttachmentId,
) -> Result<AttachmentRow, AppError> {
    state
        .store
        .visible_attachment(id, user.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The caller's conversation `id`, or 404.
pub async fn own_conversation(
    state: &AppState,
    user: &AuthUser,
    id: ConversationId,
) -> Result<(), AppError> {
    state
        .store
        .conversation_for(id, user.id)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploads_next_bytes_are_due_after_the_grace_plus_the_time_the_rate_gives_its_bytes() {
        let limits = AttachmentLimits {
            min_upload_bytes_per_second: 10_000,
            ..AttachmentLimits::default()
        };
        let started = tokio::time::Instant::now();
        let grace = Duration::from_secs(30);
        let due = |received| limits.next_bytes_due(started, received, grace) - started;
        assert_eq!(due(0), Duration::from_secs(30));
        assert_eq!(due(5_000), Duration::from_millis(30_500));
        // The whole default file: 30 s + 1,000 s.
        assert_eq!(due(limits.max_file_bytes), Duration::from_secs(1_030));
    }
}
