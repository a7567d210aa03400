//! 404.

use crate::i18n::{Key, use_i18n};
use crate::route::Route;
use crate::router::{route_link, use_navigator};
use yew::prelude::*;

/// "Page introuvable".
#[component]
pub fn NotFound() -> Html {
    let i18n = use_i18n();
    let navigator = use_navigator();
    html! {
        <section data-testid="not-found">
            <h1>{ i18n.t(Key::NotFoundTitle) }</h1>
            <p>{ i18n.t(Key::NotFoundText) }</p>
            { route_link(&navigator, Route::Home, None, false, html! { i18n.t(Key::BackHome) }) }
        </section>
    }
}
