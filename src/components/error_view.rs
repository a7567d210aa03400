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

/// Props of [`ErrorView`].
#[derive(Properties, PartialEq)]
pub struct ErrorViewProps {
    /// What went wrong.
    pub error: Error,
    /// Offers "try again" when set.
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// An error in plain words, announced to screen readers, with an optional retry.
#[component]
pub fn ErrorView(props: &ErrorViewProps) -> Html {
    let i18n = use_i18n();
    html! {
        <div class="error-view" role="alert" data-testid="error-view">
            <p>{ error_text(&i18n, &props.error) }</p>
            if let Some(on_retry) = props.on_retry.clone() {
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

/// Props of [`FetchView`].
#[derive(Properties, PartialEq)]
pub struct FetchViewProps<T: PartialEq + 'static> {
    /// The data's state.
    pub state: FetchState<T>,
    /// Renders the data.
    pub render: Callback<T, Html>,
    /// Loads it again.
    pub on_retry: Callback<()>,
}

/// Shows loading, the error or the data.
#[component]
pub fn FetchView<T: Clone + PartialEq + 'static>(props: &FetchViewProps<T>) -> Html {
    match &props.state {
        FetchState::Loading => html! { <Loading /> },
        FetchState::Failed(error) => {
            html! { <ErrorView error={error.clone()} on_retry={props.on_retry.clone()} /> }
        }
        FetchState::Ready(value) => props.render.emit(value.clone()),
    }
}
