//! Routes, the provider tree and the app root.

use crate::components::error_view::Loading;
use crate::components::idle_warning::IdleGuard;
use crate::components::layout::Layout;
use crate::config::Config;
use crate::hooks::MessagingProvider;
use crate::i18n::{I18nProvider, Lang};
use crate::pages::login::Login;
use crate::pages::medecin::{inbox::Inbox, patients::Patients};
use crate::pages::not_found::NotFound;
use crate::pages::patient::{
    appointments::Appointments, care_team::CareTeam, dashboard::Dashboard, messages::Messages,
};
use crate::services::websocket::ConnectorRef;
use crate::session::{Session, SessionProvider, use_session};
use crate::style::GlobalStyles;
use crate::style_bridge::StyleProvider;
use colloque_protocol::{ConversationId, Role};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Every page of the app.
#[derive(Routable, Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Sends the user to their home, by role (or to login).
    #[at("/")]
    Home,
    /// Login form.
    #[at("/login")]
    Login,
    /// Patient home: next appointment and doctors.
    #[at("/patient")]
    PatientDashboard,
    /// A patient's appointments.
    #[at("/patient/rendez-vous")]
    PatientAppointments,
    /// A patient's care team.
    #[at("/patient/equipe")]
    PatientCareTeam,
    /// A patient's conversations.
    #[at("/patient/messages")]
    PatientMessages,
    /// A patient's conversation.
    #[at("/patient/messages/:id")]
    PatientConversation {
        /// The conversation.
        id: i64,
    },
    /// A doctor's inbox.
    #[at("/medecin/messages")]
    MedecinInbox,
    /// A doctor's inbox with a conversation open.
    #[at("/medecin/messages/:id")]
    MedecinConversation {
        /// The conversation.
        id: i64,
    },
    /// A doctor's patients.
    #[at("/medecin/patients")]
    MedecinPatients,
    /// Anything else.
    #[not_found]
    #[at("/404")]
    NotFound,
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
    let guarded = |role: Role, page: Html| html! { <RequireRole {role}>{ page }</RequireRole> };
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
        Route::MedecinInbox => guarded(Role::Doctor, html! { <Inbox /> }),
        Route::MedecinConversation { id } => guarded(
            Role::Doctor,
            html! { <Inbox selected={Some(ConversationId(id))} /> },
        ),
        Route::MedecinPatients => guarded(Role::Doctor, html! { <Patients /> }),
        Route::NotFound => html! { <Layout><NotFound /></Layout> },
    }
}

#[component]
fn HomeRedirect() -> Html {
    let session = use_session();
    let to = session.role().map_or(Route::Login, home_route);
    html! { <Redirect<Route> {to} /> }
}

#[derive(Properties, PartialEq)]
struct RequireRoleProps {
    role: Role,
    children: Html,
}

/// Pages for one role: others are sent to their own home, strangers to the login page.
#[component]
fn RequireRole(props: &RequireRoleProps) -> Html {
    let session = use_session();
    match session.role() {
        None => html! { <Redirect<Route> to={Route::Login} /> },
        Some(role) if role != props.role => html! { <Redirect<Route> to={home_route(role)} /> },
        Some(_) => html! { <Layout>{ props.children.clone() }</Layout> },
    }
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

/// Styles, config, i18n, session and messaging contexts, in dependency order. Needs a router
/// above it (the session goes to the login page when it ends).
#[component]
pub fn Providers(props: &ProvidersProps) -> Html {
    html! {
        <StyleProvider>
            <GlobalStyles />
            <ContextProvider<Rc<Config>> context={Rc::clone(&props.config)}>
                <I18nProvider lang={props.lang}>
                    <SessionProvider initial={props.session.clone()}>
                        <SessionScope connector={props.connector.clone()} tab_id={props.tab_id.clone()}>
                            { props.children.clone() }
                        </SessionScope>
                    </SessionProvider>
                </I18nProvider>
            </ContextProvider<Rc<Config>>>
        </StyleProvider>
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
            </MessagingProvider>
            if session.session().is_some() {
                <IdleGuard />
            }
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
                config.set(Some(Rc::new(Config::load().await)));
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
