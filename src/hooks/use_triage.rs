//! The care workflow's intents (issue 12), on top of [`use_messaging`]:
//! - [`use_triage`]: the doctor moves a conversation in the queue, closes it with a reason,
//!   reopens it; the answer updates the messaging state at once (the server's `conversation`
//!   frame brings it to the other tabs);
//! - [`use_new_request`]: starting a request with someone, in steps — a patient first learns
//!   whether the doctor takes new requests (before typing anything), then chooses a topic.

use super::use_messaging::{MessagingHandle, use_messaging};
use crate::services::{Api, Error, care};
use crate::session::use_session;
use colloque_protocol::{
    ApiError, ConversationId, ConversationStatus, ConversationSummary, ErrorCode, IntakeDecision,
    Role, Topic, TriageState, UserId,
};
use std::future::Future;
use yew::prelude::*;

/// The doctor's hand on conversations.
#[derive(Clone, PartialEq)]
pub struct TriageHandle {
    /// A change is on its way.
    pub busy: bool,
    /// The last change that failed, if any.
    pub error: Option<Error>,
    busy_state: UseStateHandle<bool>,
    error_state: UseStateHandle<Option<Error>>,
    messaging: MessagingHandle,
    api: Api,
}

impl TriageHandle {
    /// Runs one change; its answer replaces the conversation in the messaging state.
    fn submit<F>(&self, change: impl FnOnce(Api) -> F)
    where
        F: Future<Output = Result<ConversationSummary, Error>> + 'static,
    {
        let (busy, error, messaging) = (
            self.busy_state.clone(),
            self.error_state.clone(),
            self.messaging.clone(),
        );
        let future = change(self.api.clone());
        busy.set(true);
        error.set(None);
        wasm_bindgen_futures::spawn_local(async move {
            match future.await {
                Ok(summary) => messaging.upsert(summary),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    }

    /// Moves an open conversation to `state` (not `done`: [`TriageHandle::close`]).
    pub fn set_state(&self, id: ConversationId, state: TriageState) {
        self.submit(move |api| async move { care::set_triage(&api, id, state).await });
    }

    /// Closes a conversation with the reason the patient will read.
    pub fn close(&self, id: ConversationId, reason: String) {
        self.submit(move |api| async move { care::close_conversation(&api, id, &reason).await });
    }

    /// Reopens a closed conversation.
    pub fn reopen(&self, id: ConversationId) {
        self.submit(move |api| async move { care::reopen_conversation(&api, id).await });
    }
}

/// The doctor's intents on conversations.
#[hook]
pub fn use_triage() -> TriageHandle {
    let session = use_session();
    let messaging = use_messaging();
    let busy_state = use_state(|| false);
    let error_state = use_state(|| None);
    TriageHandle {
        busy: *busy_state,
        error: (*error_state).clone(),
        busy_state,
        error_state,
        messaging,
        api: session.api(),
    }
}

/// Where starting a request stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestStep {
    /// Nothing asked yet.
    Idle,
    /// Asking whether the doctor takes a new request from this patient.
    Checking,
    /// The doctor does not: why (and the look-back, for recent patients only).
    Refused(IntakeDecision, Option<u32>),
    /// Choosing the topic.
    Choosing,
    /// Starting the conversation.
    Starting,
    /// Something failed.
    Failed(Error),
}

/// Starting a request with one person, step by step.
#[derive(Clone, PartialEq)]
pub struct NewRequestHandle {
    /// Where it stands.
    pub step: RequestStep,
    begin: Callback<()>,
    choose: Callback<Topic>,
    cancel: Callback<()>,
}

impl NewRequestHandle {
    /// Opens the open conversation with this person if there is one; otherwise checks that a
    /// new request is possible (patients), then asks for a topic.
    pub fn begin(&self) {
        self.begin.emit(());
    }

    /// Starts the request about `topic`, then opens it.
    pub fn choose(&self, topic: Topic) {
        self.choose.emit(topic);
    }

    /// Back to nothing.
    pub fn cancel(&self) {
        self.cancel.emit(());
    }
}

/// Starting a request with `with` (a patient's doctor, or a doctor's patient); `on_open` gets
/// the conversation to show (the open one, or the one just started).
#[hook]
pub fn use_new_request(with: UserId, on_open: Callback<ConversationId>) -> NewRequestHandle {
    let session = use_session();
    let messaging = use_messaging();
    let step = use_state(|| RequestStep::Idle);
    let role = session.role();
    let open = messaging
        .conversation_with(with)
        .filter(|c| c.status == ConversationStatus::Open)
        .map(|c| c.id);
    let begin = {
        let (step, on_open, session) = (step.clone(), on_open.clone(), session.clone());
        Callback::from(move |()| {
            let Some(role) = role else {
                return;
            };
            if let Some(id) = open {
                on_open.emit(id);
                return;
            }
            if role == Role::Doctor {
                step.set(RequestStep::Choosing);
                return;
            }
            step.set(RequestStep::Checking);
            let (step, api) = (step.clone(), session.api());
            wasm_bindgen_futures::spawn_local(async move {
                match care::get_intake_statuses(&api).await {
                    Ok(statuses) => {
                        let status = statuses.into_iter().find(|s| s.doctor_id == with);
                        step.set(match status {
                            Some(s) if s.decision == IntakeDecision::Open => RequestStep::Choosing,
                            Some(s) => RequestStep::Refused(s.decision, s.months),
                            // Not (or no longer) in the care team.
                            None => RequestStep::Failed(Error::Api(ApiError::new(
                                ErrorCode::NoCareRelationship,
                                "not in the care team",
                            ))),
                        });
                    }
                    Err(e) => step.set(RequestStep::Failed(e)),
                }
            });
        })
    };
    let choose = {
        let step = step.clone();
        Callback::from(move |topic: Topic| {
            step.set(RequestStep::Starting);
            let (step, messaging, on_open) = (step.clone(), messaging.clone(), on_open.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match messaging.open_with(with, topic).await {
                    Ok(id) => {
                        step.set(RequestStep::Idle);
                        on_open.emit(id);
                    }
                    Err(e) => step.set(RequestStep::Failed(e)),
                }
            });
        })
    };
    let cancel = {
        let step = step.clone();
        Callback::from(move |()| step.set(RequestStep::Idle))
    };
    NewRequestHandle {
        step: (*step).clone(),
        begin,
        choose,
        cancel,
    }
}
