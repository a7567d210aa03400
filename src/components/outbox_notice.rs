//! What happened to the unsent messages kept on this device, in plain words: those waiting for
//! the connection to be read back (a reloaded tab), and those dropped (unreadable, or more than
//! a day old).

use crate::hooks::MessagingHandle;
use crate::i18n::{I18n, Key};
use yew::prelude::*;

/// Nothing unless the outbox has something to say. A plain function called by the layout,
/// which already follows the messaging state.
pub fn outbox_notice(i18n: &I18n, messaging: &MessagingHandle) -> Html {
    let waiting = match messaging.outbox_waiting {
        0 => None,
        1 => Some(i18n.t(Key::OutboxWaitingOne).to_owned()),
        n => Some(i18n.tf(Key::OutboxWaitingMany, &[&n.to_string()])),
    };
    let (unreadable, expired) = messaging.outbox_dropped;
    let mut dropped = Vec::new();
    if unreadable > 0 {
        dropped.push(i18n.tf(Key::OutboxUnreadable, &[&unreadable.to_string()]));
    }
    if expired > 0 {
        dropped.push(i18n.tf(Key::OutboxExpired, &[&expired.to_string()]));
    }
    let dismiss = {
        let messaging = messaging.clone();
        Callback::from(move |_: MouseEvent| messaging.dismiss_outbox_notice())
    };
    html! {
        <>
            if messaging.outbox_unkept {
                <p class="notice" role="status" data-testid="outbox-unkept">{ i18n.t(Key::OutboxUnkept) }</p>
            }
            if let Some(text) = waiting {
                <p class="notice" role="status" data-testid="outbox-waiting">{ text }</p>
            }
            if !dropped.is_empty() {
                <div class="notice" role="alert" data-testid="outbox-dropped">
                    { for dropped.into_iter().map(|text| html! { <p>{ text }</p> }) }
                    <button type="button" class="secondary" data-testid="outbox-dropped-ok"
                        onclick={dismiss}>{ i18n.t(Key::OutboxNoticeOk) }</button>
                </div>
            }
        </>
    }
}
