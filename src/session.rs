//! The logged-in user. The token and profile live in sessionStorage (gone when the tab
//! closes; never localStorage: this is a health app), and in a context for the components.

use crate::config::Config;
use crate::services::{Api, auth};
use colloque_protocol::{LoginResponse, Role, Timestamp, UserProfile};
use gloo_storage::{SessionStorage, Storage};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use yew::prelude::*;

const STORAGE_KEY: &str = "colloque.session";

/// A logged-in user and their token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The access token (JWT).
    pub token: String,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Who is logged in.
    pub user: UserProfile,
}

impl From<LoginResponse> for Session {
    fn from(r: LoginResponse) -> Self {
        Self {
            token: r.token,
            expires_at: r.expires_at,
            user: r.user,
        }
    }
}

impl Session {
    /// The saved session, unless absent or expired.
    pub fn restore() -> Option<Session> {
        let session: Session = SessionStorage::get(STORAGE_KEY).ok()?;
        (session.expires_at > crate::time::now()).then_some(session)
    }

    fn save(&self) {
        // If storage is unavailable the session simply lasts until the page reloads.
        let _ = SessionStorage::set(STORAGE_KEY, self);
    }

    fn forget() {
        SessionStorage::delete(STORAGE_KEY);
    }
}

/// The session context: who is logged in, how to reach the API, and the intents.
#[derive(Clone, PartialEq)]
pub struct SessionHandle {
    session: Option<Rc<Session>>,
    api_base: Rc<str>,
    set: Callback<Option<Rc<Session>>>,
}

impl SessionHandle {
    /// The logged-in session, if any.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_deref()
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<&UserProfile> {
        self.session().map(|s| &s.user)
    }

    /// The logged-in user's role, if any.
    pub fn role(&self) -> Option<Role> {
        self.user().map(|u| u.role)
    }

    /// An API client carrying this session's token.
    pub fn api(&self) -> Api {
        Api::new(&self.api_base, self.session().map(|s| s.token.as_str()))
    }

    /// Stores a fresh login.
    pub fn login(&self, response: LoginResponse) {
        let session = Session::from(response);
        session.save();
        self.set.emit(Some(Rc::new(session)));
    }

    /// Forgets the session at once and revokes the token server-side in the background.
    pub fn logout(&self) {
        if self.session.is_some() {
            let api = self.api();
            wasm_bindgen_futures::spawn_local(async move {
                // Best effort: the local copy is already gone, and the token expires anyway.
                let _ = auth::logout(&api).await;
            });
        }
        Session::forget();
        self.set.emit(None);
    }

    /// Forgets a session the server no longer accepts (no logout call: the token is dead).
    pub fn expire(&self) {
        Session::forget();
        self.set.emit(None);
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

/// Provides [`SessionHandle`]. Needs the [`Config`] context.
#[component]
pub fn SessionProvider(props: &SessionProviderProps) -> Html {
    let config = use_context::<Rc<Config>>().expect("Config is provided above SessionProvider");
    let initial = props.initial.clone();
    let session = use_state(move || initial.or_else(Session::restore).map(Rc::new));
    let set = {
        let session = session.clone();
        Callback::from(move |next: Option<Rc<Session>>| session.set(next))
    };
    let context = SessionHandle {
        session: (*session).clone(),
        api_base: config.api_base.as_str().into(),
        set,
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
