//! The page frame: skip link, header with navigation, messaging button, connection state,
//! language switch and logout; and the polite live region announcing new messages.

use crate::app::{Route, inbox_route};
use crate::components::connection_status::ConnectionStatus;
use crate::components::messaging::MessagingButton;
use crate::hooks::use_messaging;
use crate::i18n::{I18n, Key, use_i18n};
use crate::session::use_session;
use colloque_protocol::Role;
use yew::prelude::*;
use yew_router::prelude::*;

/// Props of [`Layout`].
#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    /// The page.
    #[prop_or_default]
    pub children: Html,
}

/// Header, navigation and main area.
#[component]
pub fn Layout(props: &LayoutProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let route = use_route::<Route>();
    let role = session.role();

    let links: Vec<(Route, Key)> = match role {
        Some(Role::Patient) => vec![
            (Route::PatientDashboard, Key::NavHome),
            (Route::PatientAppointments, Key::NavAppointments),
            (Route::PatientCareTeam, Key::NavCareTeam),
        ],
        Some(Role::Doctor) => vec![(Route::MedecinPatients, Key::NavPatients)],
        None => vec![],
    };
    let nav = links.into_iter().map(|(to, key)| {
        let current = route.as_ref() == Some(&to);
        html! {
            <li>
                <Link<Route> to={to.clone()}>
                    <span aria-current={current.then_some("page")}>{ i18n.t(key) }</span>
                </Link<Route>>
            </li>
        }
    });
    let logout = {
        let session = session.clone();
        Callback::from(move |_: MouseEvent| session.logout())
    };

    html! {
        <>
            <a class="skip-link" href="#main">{ i18n.t(Key::SkipToContent) }</a>
            <header class="app-header">
                <Link<Route> to={Route::Home} classes="brand">{ i18n.t(Key::AppName) }</Link<Route>>
                if role.is_some() {
                    <nav class="app-nav" aria-label={i18n.t(Key::NavMain)}>
                        <ul>{ for nav }</ul>
                    </nav>
                }
                <div class="header-tools">
                    if role.is_some() {
                        <MessagingButton label={i18n.t(Key::OpenInbox)} />
                        <ConnectionStatus />
                    }
                    { lang_switch(&i18n) }
                    if role.is_some() {
                        <button type="button" class="secondary" data-testid="logout" onclick={logout}>
                            { i18n.t(Key::Logout) }
                        </button>
                    }
                </div>
            </header>
            <main id="main" tabindex="-1">{ props.children.clone() }</main>
            <Announcer />
        </>
    }
}

/// Switches between French and English. A plain function (its callers already follow the
/// language): a component costs the wasm bundle more than this button.
pub fn lang_switch(i18n: &I18n) -> Html {
    let onclick = {
        let i18n = i18n.clone();
        Callback::from(move |_: MouseEvent| i18n.set_lang(i18n.lang.other()))
    };
    html! {
        <button type="button" class="secondary" data-testid="lang-switch"
            aria-label={i18n.t(Key::LangSwitchLabel)} lang={&i18n.lang.other().locale()[..2]} {onclick}>
            { i18n.t(Key::LangSwitchText) }
        </button>
    }
}

/// Announces new incoming messages to screen readers, politely (without interrupting).
#[component]
pub fn Announcer() -> Html {
    let i18n = use_i18n();
    let messaging = use_messaging();
    let text = messaging
        .last_incoming
        .as_ref()
        .and_then(|m| messaging.conversations.get(&m.conversation_id))
        .map(|c| {
            let name = &messaging.other_party(c).display_name;
            i18n.tf(Key::NewMessageFrom, &[name])
        })
        .unwrap_or_default();
    html! {
        <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="live-region">
            { text }
        </div>
    }
}

/// The inbox link for a role, re-exported for pages.
pub fn inbox_for(role: Role) -> Route {
    inbox_route(role)
}
