//! Messaging is not for emergencies: said plainly on the patient side.

use crate::i18n::{I18n, Key};
use yew::prelude::*;

/// "En cas d'urgence, appelez le 15 ou le 112."
pub fn emergency_note(i18n: &I18n) -> Html {
    html! {
        <p class="notice" data-testid="emergency-note">{ i18n.t(Key::EmergencyNote) }</p>
    }
}
