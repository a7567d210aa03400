//! The page frame: skip link, header with navigation, messaging button, connection state,
//! language switch and logout; and the polite live region announcing new messages.

use crate::components::alert_dialog::AlertDialog;
use crate::components::connection_status::connection_status;
use crate::components::messaging::MessagingButton;
use crate::components::outbox_notice::outbox_notice;
use crate::hooks::outbox;
use crate::hooks::{MessagingHandle, use_messaging};
use crate::i18n::{I18n, Key, use_i18n};
use crate::route::{Route, home_route};
use crate::router::{Redirect, route_link, use_navigator, use_route};
use crate::session::{SessionHandle, use_session};
use colloque_protocol::Role;
use yew::prelude::*;

/// Props of [`Layout`].
#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    /// The role the page is for: anyone else is sent to their own home, and someone not
    /// logged in to the login page. `None`: any visitor (the 404 page).
    #[prop_or_default]
    pub role: Option<Role>,
    /// The page.
    #[prop_or_default]
    pub children: Html,
}

/// Header, navigation and main area.
///
/// On a phone the header is one row (name, messaging button, connection dot, menu button);
/// the navigation, language and logout fold into a menu the button opens. On a wider screen
/// everything sits in one row and the menu button is hidden. The DOM order is the visual
/// order in both, so keyboard focus follows what the user sees.
#[component]
pub fn Layout(props: &LayoutProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let route = use_route();
    let navigator = use_navigator();
    let messaging = use_messaging();
    let menu_open = use_state(|| false);
    // The logout button's question, while it is asked.
    let unsent_warning = use_state(|| None::<String>);
    let role = session.role();

    // Following a link (or any navigation) folds the menu again.
    {
        let menu_open = menu_open.clone();
        use_effect_with(route.clone(), move |_| menu_open.set(false));
    }
    // The tab's title names the page, and starts with the unread count: a doctor working in
    // another tab sees "(2) Messagerie — Colloque" without switching.
    use_tab_title(page_key(route.as_ref()), messaging.total_unread());
    if let Some(wanted) = props.role {
        match role {
            None => return html! { <Redirect to={Route::Login} /> },
            Some(role) if role != wanted => {
                return html! { <Redirect to={home_route(role)} /> };
            }
            Some(_) => {}
        }
    }
    // A doctor the deployment requires to enrol in MFA does that first (the server refuses
    // everything else to the session until then).
    if session.enrolment_required() && route != Some(Route::MedecinSecurity) {
        return html! { <Redirect to={Route::MedecinSecurity} /> };
    }

    let links: Vec<(Route, Key)> = match role {
        Some(Role::Patient) => vec![
            (Route::PatientDashboard, Key::NavHome),
            (Route::PatientAppointments, Key::NavAppointments),
            (Route::PatientCareTeam, Key::NavCareTeam),
            (Route::PatientDocuments, Key::MyDocuments),
            (Route::PatientSecurity, Key::NavSecurity),
        ],
        Some(Role::Doctor) => vec![
            (Route::MedecinPatients, Key::NavPatients),
            (Route::MedecinDocuments, Key::MyDocuments),
            (Route::MedecinSettings, Key::NavSettings),
            #[cfg(feature = "second-build")]
            (Route::MedecinTemplates, Key::NavTemplates),
            (Route::MedecinSecurity, Key::NavSecurity),
        ],
        None => vec![],
    };
    let nav = links.into_iter().map(|(to, key)| {
        let current = route.as_ref() == Some(&to);
        html! { <li>{ route_link(&navigator, to, None, current, html! { i18n.t(key) }) }</li> }
    });
    // Logging out wipes this device, the outbox included: a message not yet sent would be
    // lost, so the user is asked first. Counted at the click, over every tab's stored
    // messages: a tab closed a moment ago left its messages in storage, and the wipe would
    // take them too.
    let logout = {
        let session = session.clone();
        let messaging = messaging.clone();
        let i18n = i18n.clone();
        let unsent_warning = unsent_warning.clone();
        Callback::from(move |_: MouseEvent| {
            match unsent_question(&i18n, &session, &messaging, true) {
                Some(question) => unsent_warning.set(Some(question)),
                None => session.logout(),
            }
        })
    };
    let unsent_dialog = (*unsent_warning).clone().map(|question| {
        let stay = {
            let unsent_warning = unsent_warning.clone();
            Callback::from(move |()| unsent_warning.set(None))
        };
        let leave = {
            let session = session.clone();
            Callback::from(move |()| session.logout())
        };
        html! {
            <AlertDialog id="logout-confirm" title={i18n.t(Key::LogoutUnsentTitle)}
                safe={i18n.t(Key::StaySignedIn)} safe_id="logout-cancel" on_safe={stay}
                risky={i18n.t(Key::LogoutAnyway)} risky_id="logout-anyway" on_risky={leave}>
                <p>{ question }</p>
            </AlertDialog>
        }
    });
    let toggle = {
        let menu_open = menu_open.clone();
        Callback::from(move |_: MouseEvent| menu_open.set(!*menu_open))
    };
    let folded = (!*menu_open).then_some("folded");

    html! {
        <>
            <a class="skip-link" href="#main">{ i18n.t(Key::SkipToContent) }</a>
            <header class="app-header">
                { route_link(&navigator, Route::Home, Some("brand"), false, html! { i18n.t(Key::AppName) }) }
                if role.is_some() {
                    // A session that may only enrol in MFA has no messaging (and no socket).
                    if !session.enrolment_required() {
                        <MessagingButton label={i18n.t(Key::OpenInbox)} />
                        { connection_status(&i18n, &messaging) }
                    }
                    <button type="button" class="secondary menu-toggle" data-testid="menu-toggle"
                        aria-expanded={if *menu_open { "true" } else { "false" }}
                        aria-controls="app-nav app-menu-tools" onclick={toggle}>
                        <span class="menu-icon" aria-hidden="true"></span>
                        <span class="visually-hidden">{ i18n.t(Key::Menu) }</span>
                    </button>
                    <nav id="app-nav" class={classes!("app-nav", folded)} aria-label={i18n.t(Key::NavMain)}>
                        <ul>{ for nav }</ul>
                    </nav>
                    <div id="app-menu-tools" class={classes!("menu-tools", folded)}>
                        { lang_switch(&i18n) }
                        <button type="button" class="secondary" data-testid="logout" onclick={logout}>
                            { i18n.t(Key::Logout) }
                        </button>
                    </div>
                } else {
                    <div class="menu-tools">{ lang_switch(&i18n) }</div>
                }
            </header>
            <main id="main" tabindex="-1">
                if role.is_some() {
                    { outbox_notice(&i18n, &messaging) }
                }
                { props.children.clone() }
            </main>
            { announcer(&i18n, &messaging) }
            { for unsent_dialog }
        </>
    }
}

/// What a logout would wipe, in words: `None` when no message is waiting to be sent (any
/// tab's). `asking` gives the logout button's question, otherwise the idle warning's notice.
pub fn unsent_question(
    i18n: &I18n,
    session: &SessionHandle,
    messaging: &MessagingHandle,
    asking: bool,
) -> Option<String> {
    let stored = session
        .user()
        .map(|u| outbox::stored(u.id))
        .unwrap_or_default();
    let count = outbox::unsent_count(&stored, messaging.pending.iter().map(|(id, _)| id));
    let (one, many) = if asking {
        (Key::LogoutUnsentOne, Key::LogoutUnsentMany)
    } else {
        (Key::IdleUnsentOne, Key::IdleUnsentMany)
    };
    match count {
        0 => None,
        1 => Some(i18n.t(one).to_owned()),
        n => Some(i18n.tf(many, &[&n.to_string()])),
    }
}

/// The page's name, for the tab's title.
fn page_key(route: Option<&Route>) -> Key {
    match route {
        Some(Route::PatientDashboard) => Key::NavHome,
        Some(Route::PatientAppointments) => Key::NavAppointments,
        Some(Route::PatientCareTeam) => Key::NavCareTeam,
        Some(Route::MedecinPatients) => Key::NavPatients,
        Some(Route::PatientDocuments | Route::MedecinDocuments) => Key::MyDocuments,
        Some(Route::MedecinSettings) => Key::SettingsTitle,
        #[cfg(feature = "second-build")]
        Some(Route::MedecinTemplates) => Key::NavTemplates,
        Some(Route::PatientSecurity | Route::MedecinSecurity) => Key::SecurityTitle,
        Some(Route::NotFound) | None => Key::NotFoundTitle,
        Some(Route::Login | Route::LoginCode) => Key::LoginTitle,
        Some(_) => Key::InboxTitle,
    }
}

/// Names the browser tab "(unread) Page — Colloque", or "Page — Colloque" with nothing unread.
#[hook]
pub fn use_tab_title(page: Key, unread: u32) {
    let i18n = use_i18n();
    let title = format!("{} — {}", i18n.t(page), i18n.t(Key::AppName));
    let title = if unread > 0 {
        format!("({unread}) {title}")
    } else {
        title
    };
    use_effect_with(title, |title| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(title);
        }
    });
    let seen = use_mut_ref(|| unread);
    let lang = i18n.lang;
    use_effect_with(unread, move |&unread| {
        let before = std::mem::replace(&mut *seen.borrow_mut(), unread);
        if unread > before {
            notify_if_hidden(lang);
        }
    });
}

/// A new unread message while the tab is hidden: the browser's notification, if the user
/// allowed it (on the account page). It says only that a message waits (docs/notifications.md),
/// whoever wrote it; one at a time (`tag`).
fn notify_if_hidden(lang: crate::i18n::Lang) {
    use web_sys::{Notification, NotificationOptions, NotificationPermission, VisibilityState};
    let hidden = web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == VisibilityState::Hidden);
    if !hidden || Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(match lang {
        crate::i18n::Lang::Fr => colloque_protocol::NOTICE_FR,
        crate::i18n::Lang::En => colloque_protocol::NOTICE_EN,
    });
    options.set_tag("colloque-new-message");
    let _ = Notification::new_with_options("Colloque", &options);
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
fn announcer(i18n: &I18n, messaging: &MessagingHandle) -> Html {
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
