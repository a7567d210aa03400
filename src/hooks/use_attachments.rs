//! The files being attached to the message being written: each uploads at once, on its own,
//! with its progress, a cancel and a retry, while the text is typed (docs/attachments.md, "The
//! app"). At most [`MAX_FILES`].
//!
//! Send takes the uploaded ones by id and the ones still uploading by name
//! ([`Files`]): the message is in the outbox at once and waits for them; each upload that ends
//! afterwards reports to the messaging handle ([`MessagingHandle::settle_file`]), not to the
//! composer, which has moved on.

use super::use_messaging::{Files, MessagingHandle, use_messaging};
use crate::i18n::Key;
use crate::services::Error;
use crate::services::attachments::{Canceller, UploadError, upload};
use crate::session::use_session;
use colloque_protocol::{AttachmentMeta, ClientMsgId};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

/// The most files a message carries (the server's limit).
pub const MAX_FILES: usize = 4;

/// One picked file's state.
#[derive(Debug, Clone, PartialEq)]
pub enum ChipState {
    /// On its way: bytes sent so far, of the total.
    Uploading {
        /// Bytes sent.
        sent: f64,
        /// Bytes in all.
        total: f64,
    },
    /// Stored: sent by id with the message.
    Done(AttachmentMeta),
    /// Refused, or the network failed.
    Failed(Error),
}

/// One picked file, as its chip shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chip {
    /// Its key in the list.
    pub key: u32,
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: f64,
    /// Where it is.
    pub state: ChipState,
}

/// The chips, and a notice when more than [`MAX_FILES`] were picked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chips {
    /// In the order picked.
    pub list: Vec<Chip>,
    /// Why some picked files were not taken.
    pub notice: Option<Key>,
    next: u32,
}

/// What happens to the chips.
pub enum ChipAction {
    /// Files picked: (key, name, size).
    Add(Vec<(u32, String, f64)>),
    /// Too many files: the extra ones were left out.
    TooMany,
    /// Upload progress.
    Progress(u32, f64, f64),
    /// Upload finished.
    Done(u32, AttachmentMeta),
    /// Upload failed.
    Failed(u32, Error),
    /// Upload started again.
    Restart(u32),
    /// The chip goes (cancelled or removed).
    Remove(u32),
    /// The message was sent: the composer starts empty.
    Clear,
}

impl Reducible for Chips {
    type Action = ChipAction;

    fn reduce(self: Rc<Self>, action: ChipAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let set = |next: &mut Chips, key: u32, state: ChipState| {
            if let Some(chip) = next.list.iter_mut().find(|c| c.key == key) {
                chip.state = state;
            }
        };
        match action {
            ChipAction::Add(files) => {
                next.notice = None;
                for (key, name, size) in files {
                    next.next = next.next.max(key + 1);
                    next.list.push(Chip {
                        key,
                        name,
                        size,
                        state: ChipState::Uploading {
                            sent: 0.0,
                            total: size,
                        },
                    });
                }
            }
            ChipAction::TooMany => next.notice = Some(Key::ErrTooManyAttachments),
            ChipAction::Progress(key, sent, total) => {
                set(&mut next, key, ChipState::Uploading { sent, total })
            }
            ChipAction::Done(key, meta) => set(&mut next, key, ChipState::Done(meta)),
            ChipAction::Failed(key, error) => set(&mut next, key, ChipState::Failed(error)),
            ChipAction::Restart(key) => {
                let total = next
                    .list
                    .iter()
                    .find(|c| c.key == key)
                    .map_or(0.0, |c| c.size);
                set(&mut next, key, ChipState::Uploading { sent: 0.0, total });
            }
            ChipAction::Remove(key) => {
                next.list.retain(|c| c.key != key);
                next.notice = None;
            }
            ChipAction::Clear => {
                next.list.clear();
                next.notice = None;
            }
        }
        Rc::new(next)
    }
}

/// A picked file's live parts: the file itself (for a retry), its cancel, and the message
/// it now belongs to once Send took it while it was uploading.
struct Live {
    key: u32,
    file: web_sys::File,
    cancel: Canceller,
    handed_to: Rc<Cell<Option<ClientMsgId>>>,
}

/// The composer's files, with their intents.
#[derive(Clone)]
pub struct AttachmentsHandle {
    /// The chips.
    pub chips: UseReducerHandle<Chips>,
    live: Rc<RefCell<Vec<Live>>>,
    messaging: MessagingHandle,
    api: crate::services::Api,
}

impl PartialEq for AttachmentsHandle {
    fn eq(&self, other: &Self) -> bool {
        self.chips == other.chips
    }
}

impl AttachmentsHandle {
    /// Takes picked files, up to [`MAX_FILES`] in all, and starts their uploads.
    pub fn add(&self, files: Vec<web_sys::File>) {
        let room = MAX_FILES.saturating_sub(self.chips.list.len());
        let too_many = files.len() > room;
        let next = self.chips.next.max(
            self.live
                .borrow()
                .iter()
                .map(|l| l.key + 1)
                .max()
                .unwrap_or(0),
        );
        let mut added = Vec::new();
        for (key, file) in (next..).zip(files.into_iter().take(room)) {
            added.push((key, file.name(), file.size()));
            self.live.borrow_mut().push(Live {
                key,
                file,
                cancel: Canceller::default(),
                handed_to: Rc::new(Cell::new(None)),
            });
        }
        let keys: Vec<u32> = added.iter().map(|a| a.0).collect();
        if !added.is_empty() {
            self.chips.dispatch(ChipAction::Add(added));
        }
        // After the files taken (taking files clears the notice).
        if too_many {
            self.chips.dispatch(ChipAction::TooMany);
        }
        for key in keys {
            self.start(key);
        }
    }

    /// Stops an upload and drops its chip.
    pub fn cancel(&self, key: u32) {
        let live = {
            let mut live = self.live.borrow_mut();
            let at = live.iter().position(|l| l.key == key);
            at.map(|at| live.remove(at))
        };
        if let Some(live) = live {
            live.cancel.cancel();
        }
        self.chips.dispatch(ChipAction::Remove(key));
    }

    /// Uploads a failed file again.
    pub fn retry(&self, key: u32) {
        let fresh = {
            let mut live = self.live.borrow_mut();
            live.iter_mut().find(|l| l.key == key).map(|l| {
                l.cancel = Canceller::default();
            })
        };
        if fresh.is_some() {
            self.chips.dispatch(ChipAction::Restart(key));
            self.start(key);
        }
    }

    /// Whether a file is still uploading.
    pub fn uploading(&self) -> bool {
        self.chips
            .list
            .iter()
            .any(|c| matches!(c.state, ChipState::Uploading { .. }))
    }

    /// What Send takes: the uploaded files and the names of those still uploading. Failed ones
    /// stay behind (they never hold the text up).
    pub fn files(&self) -> Files {
        let mut files = Files::default();
        for chip in &self.chips.list {
            match &chip.state {
                ChipState::Done(meta) => files.uploaded.push(meta.clone()),
                ChipState::Uploading { .. } => files.awaiting.push(chip.name.clone()),
                ChipState::Failed(_) => {}
            }
        }
        files
    }

    /// The message `client_id` was sent with [`Self::files`]: the uploads still running now
    /// report to it, and the composer starts empty (a failed file is dropped with its chip).
    pub fn sent(&self, client_id: ClientMsgId) {
        let mut live = self.live.borrow_mut();
        for chip in &self.chips.list {
            let at = live.iter().position(|l| l.key == chip.key);
            let Some(at) = at else { continue };
            if matches!(chip.state, ChipState::Uploading { .. }) {
                live[at].handed_to.set(Some(client_id));
                // The message can be cancelled while it waits: that stops the upload.
                self.messaging
                    .hold_upload(client_id, chip.name.clone(), live[at].cancel.clone());
            }
            live.remove(at);
        }
        drop(live);
        self.chips.dispatch(ChipAction::Clear);
    }

    fn start(&self, key: u32) {
        let Some((file, cancel, handed_to)) = self
            .live
            .borrow()
            .iter()
            .find(|l| l.key == key)
            .map(|l| (l.file.clone(), l.cancel.clone(), Rc::clone(&l.handed_to)))
        else {
            return;
        };
        let chips = self.chips.clone();
        let messaging = self.messaging.clone();
        let api = self.api.clone();
        let progress: Rc<dyn Fn(f64, f64)> = {
            let (chips, handed_to) = (chips.clone(), Rc::clone(&handed_to));
            Rc::new(move |sent, total| {
                if handed_to.get().is_none() {
                    chips.dispatch(ChipAction::Progress(key, sent, total));
                }
            })
        };
        wasm_bindgen_futures::spawn_local(async move {
            let result = upload(&api, &file, progress, &cancel).await;
            if let Some(client_id) = handed_to.get() {
                messaging.settle_file(client_id, file.name(), result.ok());
                return;
            }
            match result {
                Ok(meta) => chips.dispatch(ChipAction::Done(key, meta)),
                Err(UploadError::Failed(error)) => chips.dispatch(ChipAction::Failed(key, error)),
                Err(UploadError::Cancelled) => {}
            }
        });
    }
}

/// The composer's files. Uploads not yet handed to a sent message are cancelled when the
/// composer goes away (the server deletes an unsent upload after a day anyway).
#[hook]
pub fn use_attachments() -> AttachmentsHandle {
    let chips = use_reducer(Chips::default);
    let live = use_mut_ref(Vec::<Live>::new);
    let messaging = use_messaging();
    let session = use_session();
    {
        let live = Rc::clone(&live);
        use_effect_with((), move |()| {
            move || {
                for l in live.borrow_mut().drain(..) {
                    if l.handed_to.get().is_none() {
                        l.cancel.cancel();
                    }
                }
            }
        });
    }
    AttachmentsHandle {
        chips,
        live,
        messaging,
        api: session.api(),
    }
}
