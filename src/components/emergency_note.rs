//! Messaging is not for emergencies: said plainly on the patient side.

use crate::i18n::{Key, use_i18n};
use yew::prelude::*;

/// "En cas d'urgence, appelez le 15 ou le 112."
#[component]
pub fn EmergencyNote() -> Html {
    let i18n = use_i18n();
    html! {
        <p class="notice" data-testid="emergency-note">{ i18n.t(Key::EmergencyNote) }</p>
    }
}
