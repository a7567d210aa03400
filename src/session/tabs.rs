//! Tabs that share one session share its renewed token.
//!
//! Sessions live per tab (sessionStorage), but a duplicated tab starts with a copy of its
//! original's, and the two share the browser's refresh cookie. Each refresh retires the token
//! before it (the server moves the session to its next generation), so without a word between
//! them each tab's renewal would retire the other's token, whose next request would renew in
//! turn and retire the first's: renewals and socket closes back and forth. Instead, a tab that
//! renews posts the new session on a channel named after it; the session's other tabs take it
//! (the newest wins), re-authenticate their sockets with it, and from then on renew at the
//! same moment, which the server takes as one renewal (docs/security.md, "Refresh tokens").
//!
//! Same origin only (`BroadcastChannel`), never stored: the token goes from one tab's memory to
//! the others'.

use colloque_protocol::SessionHandle;
use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

/// This tab's place on its session's channel. Leaves it when dropped.
pub struct Tabs {
    channel: BroadcastChannel,
    _listener: EventListener,
}

impl Tabs {
    /// Joins session `handle`'s channel; `heard` gets what the other tabs post. `None` where
    /// the browser has no `BroadcastChannel` (the tabs then renew on their own, at the cost of
    /// an extra renewal now and then).
    pub fn join(handle: &SessionHandle, heard: impl Fn(String) + 'static) -> Option<Tabs> {
        let channel = BroadcastChannel::new(&format!("colloque.session.{handle}")).ok()?;
        let listener = EventListener::new(&channel, "message", move |event| {
            if let Some(text) = event
                .dyn_ref::<MessageEvent>()
                .and_then(|event| event.data().as_string())
            {
                heard(text);
            }
        });
        Some(Tabs {
            channel,
            _listener: listener,
        })
    }

    /// Tells the session's other tabs.
    pub fn post(&self, text: &str) {
        // A closed channel (the tab is going away) has nobody left to tell.
        let _ = self.channel.post_message(&JsValue::from_str(text));
    }
}

impl Drop for Tabs {
    fn drop(&mut self) {
        self.channel.close();
    }
}
