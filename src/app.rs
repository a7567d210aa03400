//! Routes, the provider tree and the app root.

#[cfg(feature = "second-build")]
use crate::components::documents::DocumentList;
use crate::components::error_view::Loading;
use crate::components::idle_warning::IdleGuard;
use crate::components::layout::Layout;
use crate::config::Config;
use crate::hooks::MessagingProvider;
use crate::i18n::{I18nProvider, Lang};
use crate::pages::login::Login;
#[cfg(feature = "second-build")]
use crate::pages::medecin::{
    inbox::Inbox, patients::Patients, settings::Settings, templates::Templates,
};
use crate::pages::not_found::NotFound;
use crate::pages::patient::{
    appointments::Appointments, care_team::CareTeam, dashboard::Dashboard, messages::Messages,
};
#[cfg(feature = "second-build")]
use crate::pages::security::Security;
use crate::route::{Route, home_route};
use crate::router::{Redirect, Router, use_route};
use crate::services::websocket::ConnectorRef;
use crate::session::{Session, SessionProvider, use_session};
use colloque_protocol::{ConversationId, Role};
use std::rc::Rc;
use yew::prelude::*;

/// Renders a route.
pub fn switch(route: Route) -> Html {
    let guarded = |role: Role, page: Html| html! { <Layout {role}>{ page }</Layout> };
    match route {
        Route::Home => html! { <HomeRedirect /> },
        Route::Login => html! { <Login /> },
        Route::PatientDashboard => guarded(Role::Patient, html! { <Dashboard /> }),
        Route::PatientAppointments => guarded(Role::Patient, html! { <Appointments /> }),
        Route::PatientCareTeam => guarded(Role::Patient, html! { <CareTeam /> }),
        Route::PatientMessages => guarded(Role::Patient, html! { <Messages /> }),
        Route::PatientConversation { id } => guarded(
            Role::Patient,
            html! { <Messages selected={Some(ConversationId(id))} /> },
        ),
        Route::NotFound => html! { <Layout><NotFound /></Layout> },
        second => {
            debug_assert!(second.in_second_build());
            switch_second(second)
        }
    }
}

/// The pages of the second build (`--features second-build`, `medecin.html`): the doctor's, and
/// the account and documents pages of both roles, visited seldom enough that a patient's
/// first load does not pay for them (src/second_build.rs, [`Route::in_second_build`]).
#[cfg(feature = "second-build")]
fn switch_second(route: Route) -> Html {
    let doctor = |page: Html| html! { <Layout role={Role::Doctor}>{ page }</Layout> };
    let patient = |page: Html| html! { <Layout role={Role::Patient}>{ page }</Layout> };
    match route {
        Route::LoginCode => html! { <Login /> },
        Route::PatientSecurity => patient(html! { <Security /> }),
        Route::PatientDocuments => patient(html! { <DocumentList page=true /> }),
        Route::MedecinInbox => doctor(html! { <Inbox /> }),
        Route::MedecinConversation { id } => {
            doctor(html! { <Inbox selected={Some(ConversationId(id))} /> })
        }
        Route::MedecinPatients => doctor(html! { <Patients /> }),
        // One page for both roles.
        Route::MedecinSecurity => doctor(html! { <Security /> }),
        Route::MedecinSettings => doctor(html! { <Settings /> }),
        Route::MedecinDocuments => doctor(html! { <DocumentList page=true /> }),
        Route::MedecinTemplates => doctor(html! { <Templates /> }),
        _ => html! { <Layout><NotFound /></Layout> },
    }
}

/// The first-load build has none of those pages: their paths load the second build, which the
/// server sends for them ([`crate::second_build`]).
#[cfg(not(feature = "second-build"))]
fn switch_second(_route: Route) -> Html {
    html! { <crate::second_build::LoadSecondBuild /> }
}

/// The page of the current route.
#[component]
pub fn Pages() -> Html {
    switch(use_route().unwrap_or(Route::NotFound))
}

#[component]
fn HomeRedirect() -> Html {
    let session = use_session();
    let to = session.role().map_or(Route::Login, home_route);
    html! { <Redirect {to} /> }
}

/// Props of [`Providers`].
#[derive(Properties, PartialEq)]
pub struct ProvidersProps {
    /// Where the API and socket are.
    pub config: Rc<Config>,
    /// Start logged in as this (tests); otherwise the saved session.
    #[prop_or_default]
    pub session: Option<Session>,
    /// Force a language (tests); otherwise the saved choice.
    #[prop_or_default]
    pub lang: Option<Lang>,
    /// The messaging transport (tests); otherwise the browser WebSocket.
    #[prop_or_default]
    pub connector: Option<ConnectorRef>,
    /// This tab's outbox id (tests mounting two "tabs" in one page); otherwise per tab.
    #[prop_or_default]
    pub tab_id: Option<AttrValue>,
    /// What the providers wrap.
    #[prop_or_default]
    pub children: Html,
}

/// Config, i18n, session and messaging contexts, in dependency order. Needs a router
/// above it (the session goes to the login page when it ends).
#[component]
pub fn Providers(props: &ProvidersProps) -> Html {
    // After the first render of everything below: the app's first screen is in the page.
    use_effect_with((), |_| crate::shell::take_over());
    html! {
        <ContextProvider<Rc<Config>> context={Rc::clone(&props.config)}>
            <I18nProvider lang={props.lang}>
                <SessionProvider initial={props.session.clone()}>
                    <SessionScope connector={props.connector.clone()} tab_id={props.tab_id.clone()}>
                        { props.children.clone() }
                    </SessionScope>
                </SessionProvider>
            </I18nProvider>
        </ContextProvider<Rc<Config>>>
    }
}

#[derive(Properties, PartialEq)]
struct SessionScopeProps {
    connector: Option<ConnectorRef>,
    tab_id: Option<AttrValue>,
    children: Html,
}

/// What lives exactly as long as one login. The messaging provider is keyed by the login:
/// when the session ends it is unmounted, so its state (messages, pending sends) and its
/// socket are dropped, and the next user starts from nothing. The inactivity guard runs only
/// while someone is logged in.
#[component]
fn SessionScope(props: &SessionScopeProps) -> Html {
    let session = use_session();
    let key = session
        .login_id()
        .map_or_else(|| "none".to_owned(), |id| id.to_string());
    html! {
        <>
            <MessagingProvider {key} connector={props.connector.clone()} tab_id={props.tab_id.clone()}>
                { props.children.clone() }
                if session.session().is_some() {
                    <IdleGuard />
                }
            </MessagingProvider>
        </>
    }
}

/// The app: loads `config.json` (and the English words when they are the saved choice), then
/// renders the routed pages inside the providers.
#[component]
pub fn App() -> Html {
    let config = use_state(|| None::<Rc<Config>>);
    {
        let config = config.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let (loaded, ()) = futures_util::future::join(
                    crate::services::config::load(),
                    crate::i18n::prepare(),
                )
                .await;
                config.set(Some(Rc::new(loaded)));
            });
        });
    }
    match &*config {
        None => html! { <I18nProvider><Loading /></I18nProvider> },
        Some(config) => html! {
            <Router>
                <Providers config={Rc::clone(config)}>
                    <Pages />
                </Providers>
            </Router>
        },
    }
}
