//! The session as the components see it: the [`SessionHandle`] context (who is logged in,
//! an API client carrying the token, and the intents: log in, log out, note activity...),
//! the [`SessionProvider`] component that keeps it, and the [`use_session`] hook. The
//! renewals, the other tabs and the end of a session are the `Core`'s, in the parent module.

use super::{Core, EndReason, Session, SessionState, wipe_browser_storage};
use crate::config::Config;
use crate::router::use_navigator;
use crate::services::Api;
use colloque_protocol::{LoginResponse, Role, UserProfile};
use std::rc::Rc;
use yew::prelude::*;

/// The session context: who is logged in, how to reach the API, and the intents.
#[derive(Clone)]
pub struct SessionHandle {
    state: Rc<SessionState>,
    core: Rc<Core>,
}

impl PartialEq for SessionHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.state, &other.state) && Rc::ptr_eq(&self.core, &other.core)
    }
}

impl SessionHandle {
    /// The logged-in session, if any.
    pub fn session(&self) -> Option<&Session> {
        self.state.session.as_deref()
    }

    /// The current access token. It changes at each renewal (every ten minutes or so, while
    /// the user is active): whoever authenticated with it elsewhere (the WebSocket) should
    /// re-authenticate with the new one.
    pub fn token(&self) -> Option<&str> {
        self.session().map(|s| s.token.as_str())
    }

    /// Identifies one session from login to logout: unchanged by token renewals, different
    /// for each login. Key per-session state on it.
    pub fn login_id(&self) -> Option<u64> {
        self.session().map(|_| self.state.login_id)
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<&UserProfile> {
        self.session().map(|s| &s.user)
    }

    /// The logged-in user's role, if any.
    pub fn role(&self) -> Option<Role> {
        self.user().map(|u| u.role)
    }

    /// Why the previous session ended, while nobody is logged in.
    pub fn ended(&self) -> Option<EndReason> {
        self.state.ended.filter(|_| self.state.session.is_none())
    }

    /// An API client carrying the current token, which renews it once on a 401.
    pub fn api(&self) -> Api {
        self.core.api()
    }

    /// Stores a fresh login; `shared`: on a shared computer, nothing is kept in the browser's
    /// storage.
    pub fn login(&self, response: LoginResponse, shared: bool) {
        let mut session = Session::from(response);
        session.shared = shared;
        self.core.login(session);
    }

    /// Asks the server for the outbox key, when this session has none yet (a reloaded tab):
    /// it comes with a refresh.
    pub fn fetch_outbox_key(&self) {
        let missing = self.session().is_some_and(|s| s.outbox_key.is_none());
        if missing {
            drop(self.core.start_renewal());
        }
    }

    /// True while the session may only enrol in MFA (the deployment requires it of doctors).
    pub fn enrolment_required(&self) -> bool {
        self.session().is_some_and(|s| s.mfa_enrolment_required)
    }

    /// The MFA enrolment is confirmed: the session is no longer restricted to it.
    pub fn enrolled(&self) {
        if let Some(session) = self.session().filter(|s| s.mfa_enrolment_required) {
            let session = Session {
                mfa_enrolment_required: false,
                ..session.clone()
            };
            session.save();
            self.core.update(|s| s.session = Some(Rc::new(session)));
        }
    }

    /// The user logs out: the session is revoked server-side (in the background), the
    /// browser wiped, and the login page shown.
    pub fn logout(&self) {
        self.core.end(EndReason::LoggedOut);
    }

    /// Automatic logoff after inactivity; like [`Self::logout`], with its own notice.
    pub fn logout_idle(&self) {
        self.core.end(EndReason::Idle);
    }

    /// The server no longer accepts the session (revoked, expired, account disabled).
    pub fn expire(&self) {
        self.core.end(EndReason::Expired);
    }

    /// The user did something: a token due for renewal is renewed.
    pub fn note_activity(&self) {
        self.core.activity();
    }
}

/// Props of [`SessionProvider`].
#[derive(Properties, PartialEq)]
pub struct SessionProviderProps {
    /// Starts with this session instead of the saved one (tests).
    #[prop_or_default]
    pub initial: Option<Session>,
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// Provides [`SessionHandle`]. Needs the [`Config`] context, and a router above it (to go
/// to the login page when the session ends).
#[component]
pub fn SessionProvider(props: &SessionProviderProps) -> Html {
    let config = use_context::<Rc<Config>>().expect("Config is provided above SessionProvider");
    let rerender = use_force_update();
    let navigator = use_navigator();
    let core = {
        let initial = props.initial.clone();
        use_memo((), move |_| {
            Core::new(&config.api_base, initial.or_else(Session::restore))
        })
    };
    *core.rerender.borrow_mut() = Some(rerender);
    *core.navigator.borrow_mut() = navigator;
    {
        let core = Rc::clone(&core);
        use_effect_with((), move |_| {
            core.schedule_renewal();
            core.join_tabs();
            move || {
                core.timer.borrow_mut().take();
                core.renewal.borrow_mut().take();
                core.tabs.borrow_mut().take();
                core.rerender.borrow_mut().take();
            }
        });
    }
    let state = core.snapshot();
    {
        // Once more after the tree has let go of the ended session (the messaging provider
        // is unmounted by then), in case anything wrote to storage on its way out.
        let ended = state.session.is_none() && state.ended.is_some();
        use_effect_with((state.login_id, ended), |(_, ended)| {
            if *ended {
                wipe_browser_storage();
            }
        });
    }
    let context = SessionHandle {
        state,
        core: Rc::clone(&core),
    };
    html! {
        <ContextProvider<SessionHandle> {context}>{ props.children.clone() }</ContextProvider<SessionHandle>>
    }
}

/// The session context.
#[hook]
pub fn use_session() -> SessionHandle {
    use_context::<SessionHandle>().expect("SessionProvider is above every component")
}
