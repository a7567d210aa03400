//! Routes, the provider tree and the app root.

use crate::components::error_view::Loading;
use crate::components::idle_warning::IdleGuard;
use crate::components::layout::Layout;
use crate::config::Config;
use crate::hooks::MessagingProvider;
use crate::i18n::{I18nProvider, Lang};
use crate::pages::login::Login;
#[cfg(feature = "doctor")]
use crate::pages::medecin::{
    inbox::Inbox, patients::Patients, settings::Settings, templates::Templates,
};
use crate::pages::not_found::NotFound;
use crate::pages::patient::{
    appointments::Appointments, care_team::CareTeam, dashboard::Dashboard, messages::Messages,
};
use crate::pages::security::Security;
use crate::services::websocket::ConnectorRef;
use crate::session::{Session, SessionProvider, use_session};
use colloque_protocol::{ConversationId, Role};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Every page of the app, with its path.
///
/// `Routable` is written by hand rather than derived: the derive builds a generic route
/// recognizer (a state machine in a thread-local, a hash map of parameters) that costs about
/// 4 KB of the compressed bundle, where thirteen fixed paths need a `match` on the segments.
/// The tests below check that every route survives `to_path` → `recognize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: sends the user to their home, by role (or to login).
    Home,
    /// `/login`: the login form.
    Login,
    /// `/patient`: patient home, next appointment and doctors.
    PatientDashboard,
    /// `/patient/rendez-vous`: a patient's appointments.
    PatientAppointments,
    /// `/patient/equipe`: a patient's care team.
    PatientCareTeam,
    /// `/patient/messages`: a patient's conversations.
    PatientMessages,
    /// `/patient/securite`: a patient's devices and password.
    PatientSecurity,
    /// `/patient/messages/:id`: a patient's conversation.
    PatientConversation {
        /// The conversation.
        id: i64,
    },
    /// `/medecin/messages`: a doctor's inbox.
    MedecinInbox,
    /// `/medecin/messages/:id`: a doctor's inbox with a conversation open.
    MedecinConversation {
        /// The conversation.
        id: i64,
    },
    /// `/medecin/patients`: a doctor's patients.
    MedecinPatients,
    /// `/medecin/securite`: a doctor's devices and password.
    MedecinSecurity,
    /// `/medecin/reglages`: who may write to a doctor.
    MedecinSettings,
    /// `/medecin/modeles`: a doctor's reply templates.
    MedecinTemplates,
    /// `/404`, and anything else.
    NotFound,
}

impl Route {
    /// The route of a path (without query or fragment), `None` when no page has that path.
    /// One trailing slash is ignored; an `:id` must be a whole decimal number.
    fn parse(path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let id = |s: &str| -> Option<i64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        Some(match path {
            "" => Route::Home,
            "/login" => Route::Login,
            "/patient" => Route::PatientDashboard,
            "/patient/rendez-vous" => Route::PatientAppointments,
            "/patient/equipe" => Route::PatientCareTeam,
            "/patient/messages" => Route::PatientMessages,
            "/patient/securite" => Route::PatientSecurity,
            "/medecin/messages" => Route::MedecinInbox,
            "/medecin/patients" => Route::MedecinPatients,
            "/medecin/securite" => Route::MedecinSecurity,
            "/medecin/reglages" => Route::MedecinSettings,
            "/medecin/modeles" => Route::MedecinTemplates,
            "/404" => Route::NotFound,
            _ => {
                if let Some(rest) = path.strip_prefix("/patient/messages/") {
                    Route::PatientConversation { id: id(rest)? }
                } else if let Some(rest) = path.strip_prefix("/medecin/messages/") {
                    Route::MedecinConversation { id: id(rest)? }
                } else {
                    return None;
                }
            }
        })
    }
}

impl Routable for Route {
    fn from_path(path: &str, params: &std::collections::HashMap<&str, &str>) -> Option<Self> {
        // `path` is one of `routes()`, with its `:id` in `params`.
        match params.get("id") {
            Some(id) => Route::parse(&path.replace(":id", id)),
            None => Route::parse(path),
        }
    }

    fn to_path(&self) -> String {
        match self {
            Route::Home => "/".to_owned(),
            Route::Login => "/login".to_owned(),
            Route::PatientDashboard => "/patient".to_owned(),
            Route::PatientAppointments => "/patient/rendez-vous".to_owned(),
            Route::PatientCareTeam => "/patient/equipe".to_owned(),
            Route::PatientMessages => "/patient/messages".to_owned(),
            Route::PatientSecurity => "/patient/securite".to_owned(),
            Route::PatientConversation { id } => format!("/patient/messages/{id}"),
            Route::MedecinInbox => "/medecin/messages".to_owned(),
            Route::MedecinConversation { id } => format!("/medecin/messages/{id}"),
            Route::MedecinPatients => "/medecin/patients".to_owned(),
            Route::MedecinSecurity => "/medecin/securite".to_owned(),
            Route::MedecinSettings => "/medecin/reglages".to_owned(),
            Route::MedecinTemplates => "/medecin/modeles".to_owned(),
            Route::NotFound => "/404".to_owned(),
        }
    }

    fn routes() -> Vec<&'static str> {
        vec![
            "/",
            "/login",
            "/patient",
            "/patient/rendez-vous",
            "/patient/equipe",
            "/patient/messages",
            "/patient/securite",
            "/patient/messages/:id",
            "/medecin/messages",
            "/medecin/messages/:id",
            "/medecin/patients",
            "/medecin/securite",
            "/medecin/reglages",
            "/medecin/modeles",
            "/404",
        ]
    }

    fn not_found_route() -> Option<Self> {
        Some(Route::NotFound)
    }

    fn recognize(pathname: &str) -> Option<Self> {
        Some(Route::parse(pathname).unwrap_or(Route::NotFound))
    }
}

/// The inbox of a role.
pub fn inbox_route(role: Role) -> Route {
    match role {
        Role::Patient => Route::PatientMessages,
        Role::Doctor => Route::MedecinInbox,
    }
}

/// A conversation, as seen by a role.
pub fn conversation_route(role: Role, id: ConversationId) -> Route {
    match role {
        Role::Patient => Route::PatientConversation { id: id.0 },
        Role::Doctor => Route::MedecinConversation { id: id.0 },
    }
}

/// The home page of a role.
pub fn home_route(role: Role) -> Route {
    match role {
        Role::Patient => Route::PatientDashboard,
        Role::Doctor => Route::MedecinInbox,
    }
}

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
        Route::PatientSecurity => guarded(Role::Patient, html! { <Security /> }),
        Route::NotFound => html! { <Layout><NotFound /></Layout> },
        doctor => switch_doctor(doctor),
    }
}

/// The doctor's pages, in the doctor's build (`--features doctor`, `medecin.html`).
#[cfg(feature = "doctor")]
fn switch_doctor(route: Route) -> Html {
    let guarded = |page: Html| html! { <Layout role={Role::Doctor}>{ page }</Layout> };
    match route {
        Route::MedecinInbox => guarded(html! { <Inbox /> }),
        Route::MedecinConversation { id } => {
            guarded(html! { <Inbox selected={Some(ConversationId(id))} /> })
        }
        Route::MedecinPatients => guarded(html! { <Patients /> }),
        // One page for both roles.
        Route::MedecinSecurity => guarded(html! { <Security /> }),
        Route::MedecinSettings => guarded(html! { <Settings /> }),
        Route::MedecinTemplates => guarded(html! { <Templates /> }),
        _ => html! { <Layout><NotFound /></Layout> },
    }
}

/// The first-load build has no doctor's page: `/medecin/…` loads the doctor's build, which the
/// server sends for those paths ([`crate::doctor_build`]).
#[cfg(not(feature = "doctor"))]
fn switch_doctor(_route: Route) -> Html {
    html! { <crate::doctor_build::LoadDoctorBuild /> }
}

#[component]
fn HomeRedirect() -> Html {
    let session = use_session();
    let to = session.role().map_or(Route::Login, home_route);
    html! { <Redirect<Route> {to} /> }
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

/// The app: loads `config.json`, then renders the routed pages inside the providers.
#[component]
pub fn App() -> Html {
    let config = use_state(|| None::<Rc<Config>>);
    {
        let config = config.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                config.set(Some(Rc::new(crate::services::config::load().await)));
            });
        });
    }
    match &*config {
        None => html! { <I18nProvider><Loading /></I18nProvider> },
        Some(config) => html! {
            <BrowserRouter>
                <Providers config={Rc::clone(config)}>
                    <Switch<Route> render={switch} />
                </Providers>
            </BrowserRouter>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_route() -> Vec<Route> {
        vec![
            Route::Home,
            Route::Login,
            Route::PatientDashboard,
            Route::PatientAppointments,
            Route::PatientCareTeam,
            Route::PatientMessages,
            Route::PatientConversation { id: 7 },
            Route::PatientConversation { id: i64::MAX },
            Route::MedecinInbox,
            Route::MedecinConversation { id: 0 },
            Route::MedecinConversation { id: 123_456 },
            Route::MedecinPatients,
            Route::PatientSecurity,
            Route::MedecinSecurity,
            Route::MedecinSettings,
            Route::NotFound,
        ]
    }

    #[test]
    fn every_route_survives_to_path_then_recognize() {
        for route in every_route() {
            let path = route.to_path();
            assert_eq!(Route::recognize(&path), Some(route.clone()), "{path}");
            if route != Route::Home {
                let slashed = format!("{path}/");
                assert_eq!(Route::recognize(&slashed), Some(route), "{slashed}");
            }
        }
    }

    #[test]
    fn every_declared_pattern_is_a_route() {
        let params: std::collections::HashMap<&str, &str> = [("id", "42")].into();
        for pattern in Route::routes() {
            let route = Route::from_path(pattern, &params);
            let expect_not_found = pattern == "/404";
            assert_eq!(
                route == Some(Route::NotFound),
                expect_not_found,
                "{pattern}"
            );
            assert!(route.is_some(), "{pattern}");
        }
        assert_eq!(
            Route::from_path("/medecin/messages/:id", &params),
            Some(Route::MedecinConversation { id: 42 })
        );
    }

    #[test]
    fn unknown_paths_and_bad_ids_are_not_found() {
        for path in [
            "/nope",
            "/patient/messages/abc",
            "/patient/messages/-1",
            "/patient/messages/+1",
            "/patient/messages/1/2",
            "/patient/messages/",
            "/medecin/messages/99999999999999999999",
            "/medecin",
            "//",
            "/PATIENT",
            "/login/extra",
        ] {
            let route = Route::recognize(path);
            // "/patient/messages/" is the list (one trailing slash is ignored).
            if path == "/patient/messages/" {
                assert_eq!(route, Some(Route::PatientMessages));
            } else {
                assert_eq!(route, Some(Route::NotFound), "{path}");
            }
        }
    }
}
