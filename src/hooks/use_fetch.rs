//! Loading data for a page: one [`FetchState`] for loading / ready / failed, shown by the
//! pages through [`crate::components::error_view::ErrorView`]. Leaving the page aborts the
//! request's task, and an expired session sends the user back to the login page.

use crate::services::{Api, Error};
use crate::session::use_session;
use colloque_protocol::ErrorCode;
use futures_util::future::{AbortHandle, Abortable};
use std::future::Future;
use yew::prelude::*;

/// The state of a page's data.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchState<T> {
    /// On its way.
    Loading,
    /// Here.
    Ready(T),
    /// Could not be loaded.
    Failed(Error),
}

/// What [`use_fetch`] returns.
pub struct Fetched<T> {
    /// The data's state.
    pub state: UseStateHandle<FetchState<T>>,
    /// Loads it again (the error view's "try again").
    pub reload: Callback<()>,
}

/// Runs `fetch` with the session's API client on mount (and on `reload`).
#[hook]
pub fn use_fetch<T, F, Fut>(fetch: F) -> Fetched<T>
where
    T: 'static,
    F: FnOnce(Api) -> Fut + 'static,
    Fut: Future<Output = Result<T, Error>> + 'static,
{
    let session = use_session();
    let state = use_state(|| FetchState::Loading);
    let reloads = use_state(|| 0u32);
    {
        let state = state.clone();
        let session = session.clone();
        use_effect_with((session.api(), *reloads), move |(api, _)| {
            state.set(FetchState::Loading);
            let (abort, registration) = AbortHandle::new_pair();
            let task = Abortable::new(fetch(api.clone()), registration);
            wasm_bindgen_futures::spawn_local(async move {
                match task.await {
                    Ok(Ok(value)) => state.set(FetchState::Ready(value)),
                    Ok(Err(error)) => {
                        if error.code() == Some(ErrorCode::Unauthorized) {
                            session.expire();
                        }
                        state.set(FetchState::Failed(error));
                    }
                    Err(_aborted) => {}
                }
            });
            move || abort.abort()
        });
    }
    let reload = Callback::from(move |()| reloads.set(*reloads + 1));
    Fetched { state, reload }
}
