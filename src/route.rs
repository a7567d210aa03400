//! Every page of the app and its path ([`Route`]), and the routes of a role. A leaf: the router,
//! pages, components and the app's root all use it, and it uses none of them.

use colloque_protocol::{ConversationId, Role};

/// Every page of the app, with its path.
///
/// Paths are matched by hand ([`Route::recognize`]) rather than by a generic route recognizer
/// (yew-router's derive builds a state machine in a thread-local and a hash map of parameters,
/// about 4 KB of the compressed bundle), where a score of fixed paths need a `match` on the
/// segments. The tests below check that every route survives `to_path` → `recognize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: sends the user to their home, by role (or to login).
    Home,
    /// `/login`: the login form.
    Login,
    /// `/login/code`: the login's second step, a code of two-step verification (in the second
    /// build: the first-load build hands its challenge over, src/second_build.rs).
    LoginCode,
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
    /// `/patient/documents`: the files of a patient's conversations.
    PatientDocuments,
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
    /// `/medecin/documents`: the files of a doctor's conversations.
    MedecinDocuments,
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
            "/login/code" => Route::LoginCode,
            "/patient" => Route::PatientDashboard,
            "/patient/rendez-vous" => Route::PatientAppointments,
            "/patient/equipe" => Route::PatientCareTeam,
            "/patient/messages" => Route::PatientMessages,
            "/patient/securite" => Route::PatientSecurity,
            "/patient/documents" => Route::PatientDocuments,
            "/medecin/messages" => Route::MedecinInbox,
            "/medecin/documents" => Route::MedecinDocuments,
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

impl Route {
    /// The route of a path: its page, or [`Route::NotFound`].
    pub fn recognize(path: &str) -> Route {
        Route::parse(path).unwrap_or(Route::NotFound)
    }

    /// The path of the route.
    pub fn to_path(&self) -> String {
        match self {
            Route::Home => "/".to_owned(),
            Route::Login => "/login".to_owned(),
            Route::LoginCode => "/login/code".to_owned(),
            Route::PatientDashboard => "/patient".to_owned(),
            Route::PatientAppointments => "/patient/rendez-vous".to_owned(),
            Route::PatientCareTeam => "/patient/equipe".to_owned(),
            Route::PatientMessages => "/patient/messages".to_owned(),
            Route::PatientSecurity => "/patient/securite".to_owned(),
            Route::PatientDocuments => "/patient/documents".to_owned(),
            Route::MedecinDocuments => "/medecin/documents".to_owned(),
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

impl Route {
    /// True for the pages of the second build (`medecin.html`, the cargo feature `second-build`):
    /// the first-load build reloads the page for them (src/second_build.rs).
    pub fn in_second_build(&self) -> bool {
        colloque_protocol::in_second_build(&self.to_path())
    }
}

/// The home page of a role.
pub fn home_route(role: Role) -> Route {
    match role {
        Role::Patient => Route::PatientDashboard,
        Role::Doctor => Route::MedecinInbox,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_route() -> Vec<Route> {
        vec![
            Route::Home,
            Route::Login,
            Route::LoginCode,
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
            Route::PatientDocuments,
            Route::MedecinDocuments,
            Route::MedecinTemplates,
            Route::NotFound,
        ]
    }

    #[test]
    fn the_second_build_has_the_doctors_account_and_documents_pages() {
        let second: Vec<Route> = every_route()
            .into_iter()
            .filter(Route::in_second_build)
            .collect();
        assert_eq!(
            second,
            vec![
                Route::LoginCode,
                Route::MedecinInbox,
                Route::MedecinConversation { id: 0 },
                Route::MedecinConversation { id: 123_456 },
                Route::MedecinPatients,
                Route::PatientSecurity,
                Route::MedecinSecurity,
                Route::MedecinSettings,
                Route::PatientDocuments,
                Route::MedecinDocuments,
                Route::MedecinTemplates,
            ]
        );
        assert!(!colloque_protocol::in_second_build("/medecins"));
        assert!(!colloque_protocol::in_second_build("/patient/securites"));
        assert!(colloque_protocol::in_second_build("/patient/documents/"));
        assert!(!colloque_protocol::in_second_build("/login"));
    }

    #[test]
    fn the_service_worker_sends_the_same_pages_to_the_second_build() {
        let list = colloque_protocol::SECOND_BUILD_PATHS
            .iter()
            .map(|path| format!("'{path}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let line = format!("const SECOND_BUILD = [{list}];");
        assert!(
            include_str!("../static/sw.js").contains(&line),
            "static/sw.js should say {line}"
        );
    }

    #[test]
    fn every_route_survives_to_path_then_recognize() {
        for route in every_route() {
            let path = route.to_path();
            assert_eq!(Route::recognize(&path), route.clone(), "{path}");
            if route != Route::Home {
                let slashed = format!("{path}/");
                assert_eq!(Route::recognize(&slashed), route, "{slashed}");
            }
        }
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
                assert_eq!(route, Route::PatientMessages);
            } else {
                assert_eq!(route, Route::NotFound, "{path}");
            }
        }
    }
}
