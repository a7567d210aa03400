//! Loading and error UI, declared once.

use crate::hooks::FetchState;
use crate::i18n::{I18n, Key, use_i18n};
use crate::services::Error;
use yew::prelude::*;

/// The plain-words text for an error.
pub fn error_text(i18n: &I18n, error: &Error) -> &'static str {
    match error.code() {
        Some(code) => i18n.error(code),
        None => i18n.t(Key::ErrNetwork),
    }
}

/// An error in plain words, announced to screen readers, with a retry when `on_retry` is
/// set. A plain function rather than a component: a component costs the wasm bundle far more
/// than this markup.
pub fn error_view(i18n: &I18n, error: &Error, on_retry: Option<&Callback<()>>) -> Html {
    html! {
        <div class="error-view" role="alert" data-testid="error-view">
            <p>{ error_text(i18n, error) }</p>
            if let Some(on_retry) = on_retry.cloned() {
                <button type="button" class="secondary" onclick={move |_| on_retry.emit(())}>
                    { i18n.t(Key::Retry) }
                </button>
            }
        </div>
    }
}

/// A polite "loading…" line.
#[component]
pub fn Loading() -> Html {
    let i18n = use_i18n();
    html! { <p class="muted" role="status">{ i18n.t(Key::Loading) }</p> }
}

/// Shows loading, the error or the data. A plain function rather than a generic component:
/// one component per data type cost the wasm bundle more than the markup itself.
pub fn fetch_view<T: Clone>(
    i18n: &I18n,
    state: &FetchState<T>,
    render: &Callback<T, Html>,
    on_retry: &Callback<()>,
) -> Html {
    match state {
        FetchState::Loading => html! { <Loading /> },
        FetchState::Failed(error) => error_view(i18n, error, Some(on_retry)),
        FetchState::Ready(value) => render.emit(value.clone()),
    }
}
