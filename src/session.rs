//! The logged-in user. The token and profile live in sessionStorage (gone when the tab
//! closes; never localStorage: this is a health app), and in a context for the components.
//!
//! Access tokens are short-lived (about 15 minutes). While the user is active the token is
//! renewed at two thirds of its lifetime through `POST /api/auth/refresh/{session}`, which
//! the browser authenticates with the session's refresh cookie (HttpOnly: this code never
//! sees the credential); a request refused with 401 gets one renewal and one retry (see
//! [`crate::services::requests::Renewer`]), after which the session ends. A renewed token is
//! shared with the session's other tabs, if any ([`tabs`]). However it ends (the logout button, inactivity, a revoked or expired
//! session), the browser is wiped of health data ([`wipe_browser_storage`]) and the user is
//! taken to the login page, which says why in plain words.

use crate::crypto::OutboxKey;
use crate::route::Route;
use crate::router::Navigator;
use crate::services::requests::{Renewer, RenewerRef};
use crate::services::{Api, Error, auth, json, push};
use colloque_protocol::{
    ErrorCode, LoginResponse, SessionHandle as SessionName, Timestamp, UserProfile,
};
use futures_channel::oneshot;
use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use gloo_storage::{SessionStorage, Storage};
use gloo_timers::callback::Timeout;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

mod provider;
mod renewal;
mod storage;
mod tabs;

pub use provider::{SessionHandle, SessionProvider, SessionProviderProps, use_session};
pub use renewal::{RenewalClock, renewal_delay_ms};
pub use storage::{KEPT_KEY, STORAGE_PREFIX, is_health_key, wipe_browser_storage};

const STORAGE_KEY: &str = "colloque.session";

/// After a renewal that could not reach the server, wait this long before activity may
/// trigger another (offline, every keystroke would otherwise send one).
const RETRY_AFTER_MS: f64 = 10_000.0;

/// A logged-in user and their token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The access token (JWT).
    pub token: String,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Who is logged in.
    pub user: UserProfile,
    /// The session's public name: its refresh route, and its entry on the security page.
    pub handle: SessionName,
    /// The user's outbox key, from the login or refresh answer. Memory only: never
    /// serialised, so never in sessionStorage nor posted to the other tabs (a reloaded tab
    /// gets it again from its first refresh).
    #[serde(skip)]
    pub outbox_key: Option<OutboxKey>,
    /// "Ordinateur partagé": nothing of this session is kept in the browser's storage (not
    /// the session, not the outbox); a reload or a closed tab ends it.
    #[serde(skip)]
    pub shared: bool,
    /// A doctor whom the deployment requires to enrol in MFA, not enrolled yet: the session
    /// may only do that ([`LoginResponse::mfa_enrolment_required`]).
    #[serde(default)]
    pub mfa_enrolment_required: bool,
}

// Never print the token, even in a debug dump.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user.id)
            .finish()
    }
}

impl From<LoginResponse> for Session {
    fn from(r: LoginResponse) -> Self {
        Self {
            token: r.token,
            expires_at: r.expires_at,
            user: r.user,
            handle: r.session,
            outbox_key: OutboxKey::from_base64(&r.outbox_key.0),
            shared: false,
            mfa_enrolment_required: r.mfa_enrolment_required,
        }
    }
}

impl Session {
    /// The saved session, unless absent or expired.
    pub fn restore() -> Option<Session> {
        #[cfg(feature = "second-build")]
        if let Some(session) = crate::second_build::take_handoff() {
            return Some(session);
        }
        let text = SessionStorage::raw().get_item(STORAGE_KEY).ok()??;
        let session: Session = json::from_str(&text).ok()?;
        (session.expires_at > crate::time::now()).then_some(session)
    }

    fn save(&self) {
        // If storage is unavailable the session simply lasts until the page reloads.
        if !self.shared {
            let _ = SessionStorage::set(STORAGE_KEY, self);
        }
    }
}

/// Whether a session another tab posted replaces this tab's: the same session and user, and a
/// token that lives longer (two tabs renewing at once both post; the later token wins on both
/// sides, and an older one arriving late changes nothing).
pub fn takes_over(ours: &Session, theirs: &Session) -> bool {
    ours.handle == theirs.handle
        && ours.user.id == theirs.user.id
        && theirs.expires_at > ours.expires_at
}

/// Why the last session ended, for the login page's notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The user pressed "Se déconnecter".
    LoggedOut,
    /// Automatic logoff after inactivity.
    Idle,
    /// The server no longer accepts the session (expired, revoked, account disabled).
    Expired,
}

/// The session's state as the components see it.
#[derive(Debug, Clone, PartialEq, Default)]
struct SessionState {
    session: Option<Rc<Session>>,
    /// Bumped at each login: identifies one session across its token renewals.
    login_id: u64,
    ended: Option<EndReason>,
}

/// The requests waiting on the renewal under way: each gets its outcome. (A plain list of
/// one-shot channels rather than a shared future: much smaller in the wasm bundle.)
type Waiters = Rc<RefCell<Vec<oneshot::Sender<Option<Rc<str>>>>>>;

/// The provider's side-effecting half, shared by the handles, the renewal timer and the
/// requests waiting on a renewal. Holds the state itself (not only a Yew snapshot) because
/// asynchronous code must see the current token, not the one of an old render.
struct Core {
    me: Weak<Core>,
    api_base: Rc<str>,
    state: RefCell<Rc<SessionState>>,
    rerender: RefCell<Option<yew::functional::UseForceUpdateHandle>>,
    navigator: RefCell<Option<Navigator>>,
    clock: Cell<RenewalClock>,
    timer: RefCell<Option<Timeout>>,
    renewal: RefCell<Option<Waiters>>,
    /// When the last renewal started (`Date.now()`).
    last_attempt: Cell<f64>,
    /// The session's other tabs.
    tabs: RefCell<Option<tabs::Tabs>>,
}

impl Core {
    fn new(api_base: &str, initial: Option<Session>) -> Rc<Core> {
        let login_id = u64::from(initial.is_some());
        Rc::new_cyclic(|me| Core {
            me: me.clone(),
            api_base: api_base.into(),
            state: RefCell::new(Rc::new(SessionState {
                session: initial.map(Rc::new),
                login_id,
                ended: None,
            })),
            rerender: RefCell::new(None),
            navigator: RefCell::new(None),
            // A page load with a saved session: the user is there.
            clock: Cell::new(RenewalClock::issued(true)),
            timer: RefCell::new(None),
            renewal: RefCell::new(None),
            last_attempt: Cell::new(f64::NEG_INFINITY),
            tabs: RefCell::new(None),
        })
    }

    fn snapshot(&self) -> Rc<SessionState> {
        Rc::clone(&self.state.borrow())
    }

    fn token(&self) -> Option<String> {
        self.state
            .borrow()
            .session
            .as_ref()
            .map(|s| s.token.clone())
    }

    fn update(&self, change: impl FnOnce(&mut SessionState)) {
        let mut next = (*self.snapshot()).clone();
        change(&mut next);
        *self.state.borrow_mut() = Rc::new(next);
        // Cloned out first: a render writes this cell.
        let rerender = self.rerender.borrow().clone();
        if let Some(rerender) = rerender {
            rerender.force_update();
        }
    }

    fn api(&self) -> Api {
        let token = self.token();
        let api = Api::new(&self.api_base, token.as_deref());
        match self.me.upgrade() {
            Some(me) => api.with_renewer(RenewerRef(me)),
            None => api,
        }
    }

    fn login(&self, session: Session) {
        session.save();
        self.renewal.borrow_mut().take();
        self.clock.set(RenewalClock::issued(true));
        self.update(|s| {
            s.session = Some(Rc::new(session));
            s.login_id += 1;
            s.ended = None;
        });
        self.schedule_renewal();
        self.join_tabs();
    }

    fn renewed(&self, mut session: Session) {
        // Another tab's token comes without the key and the shared choice: they stay ours.
        if let Some(ours) = self.state.borrow().session.as_deref() {
            session.shared = ours.shared;
            if session.outbox_key.is_none() {
                session.outbox_key = ours.outbox_key.clone();
            }
        }
        session.save();
        self.clock.set(RenewalClock::issued(false));
        self.update(|s| s.session = Some(Rc::new(session)));
        self.schedule_renewal();
    }

    /// Listens to the session's other tabs (a duplicated tab shares its session).
    fn join_tabs(&self) {
        let handle = self
            .state
            .borrow()
            .session
            .as_ref()
            .map(|s| s.handle.clone());
        let me = self.me.clone();
        let tabs = handle.and_then(|handle| {
            tabs::Tabs::join(&handle, move |text| {
                if let Some(core) = me.upgrade() {
                    core.heard(&text);
                }
            })
        });
        *self.tabs.borrow_mut() = tabs;
    }

    /// Another tab of this session renewed its token: take it if it is newer than ours.
    fn heard(&self, text: &str) {
        let Ok(theirs) = json::from_str::<Session>(text) else {
            return;
        };
        let newer = self
            .state
            .borrow()
            .session
            .as_ref()
            .is_some_and(|ours| takes_over(ours, &theirs));
        if newer {
            self.renewed(theirs);
        }
    }

    /// Ends the session, however it ends: revokes it server-side (best effort), wipes the
    /// browser, and goes to the login page.
    fn end(&self, reason: EndReason) {
        let Some(token) = self.token() else {
            return;
        };
        let api = Api::new(&self.api_base, Some(&token));
        // Read before the wipe: this browser stops receiving the user's notices.
        let pushed = push::saved_id();
        wasm_bindgen_futures::spawn_local(async move {
            // Best effort: the local copy is already gone, and the token expires anyway.
            if pushed.is_some() {
                let _ = push::forget(&api, pushed).await;
            }
            let _ = auth::logout(&api).await;
        });
        self.timer.borrow_mut().take();
        self.renewal.borrow_mut().take();
        self.tabs.borrow_mut().take();
        wipe_browser_storage();
        self.update(|s| {
            s.session = None;
            s.ended = Some(reason);
        });
        let navigator = self.navigator.borrow().clone();
        if let Some(navigator) = navigator {
            navigator.replace(&Route::Login);
        }
    }

    fn schedule_renewal(&self) {
        let expires_at = self.state.borrow().session.as_ref().map(|s| s.expires_at);
        let timer = expires_at.map(|expires_at| {
            let me = self.me.clone();
            Timeout::new(
                renewal_delay_ms(expires_at, crate::time::now()),
                move || {
                    if let Some(core) = me.upgrade() {
                        let mut clock = core.clock.get();
                        let now = clock.two_thirds();
                        core.clock.set(clock);
                        if now {
                            drop(core.start_renewal());
                        }
                    }
                },
            )
        });
        *self.timer.borrow_mut() = timer;
    }

    fn activity(&self) {
        if self.state.borrow().session.is_none() {
            return;
        }
        let mut clock = self.clock.get();
        let renew = clock.activity();
        self.clock.set(clock);
        let too_soon = js_sys::Date::now() - self.last_attempt.get() < RETRY_AFTER_MS;
        if renew && !too_soon {
            drop(self.start_renewal());
        }
    }

    /// Starts a renewal, or joins the one under way. Its waiters are sent the new token, or
    /// `None` (refused: the session has ended; unreachable: the session goes on for now).
    fn start_renewal(&self) -> Waiters {
        if let Some(pending) = self.renewal.borrow().as_ref() {
            return Rc::clone(pending);
        }
        let mut clock = self.clock.get();
        clock.renewing();
        self.clock.set(clock);
        self.last_attempt.set(js_sys::Date::now());
        let state = self.snapshot();
        let me = self.me.clone();
        let api = Api::new(&self.api_base, None);
        let waiters = Waiters::default();
        *self.renewal.borrow_mut() = Some(Rc::clone(&waiters));
        let outcome = async move {
            let handle = state.session.as_ref().map(|s| s.handle.clone())?;
            let result = auth::refresh(&api, &handle).await;
            let core = me.upgrade()?;
            core.renewal.borrow_mut().take();
            let current = core.snapshot();
            let same_session = current.login_id == state.login_id && current.session.is_some();
            if !same_session {
                return None;
            }
            let user = state.session.as_ref().map(|s| s.user.id);
            match result {
                Ok(response) if Some(response.user.id) == user => {
                    let token: Rc<str> = response.token.as_str().into();
                    let session = Session::from(response);
                    if let (Some(tabs), Ok(text)) =
                        (&*core.tabs.borrow(), serde_json::to_string(&session))
                    {
                        tabs.post(&text);
                    }
                    core.renewed(session);
                    Some(token)
                }
                // Not reached, or not answered (a proxy that lost the instance mid-request
                // answers 502, an instance shutting down 503): the session goes on, and the
                // renewal is tried again at the next activity or refused request.
                Err(error) if renewal_may_succeed_later(&error) => {
                    let mut clock = core.clock.get();
                    clock.failed();
                    core.clock.set(clock);
                    None
                }
                // Refused, or (never expected) someone else's session: over.
                _ => {
                    core.end(EndReason::Expired);
                    None
                }
            }
        };
        let pending = Rc::clone(&waiters);
        // Runs even if no request awaits it (the timer's renewal).
        wasm_bindgen_futures::spawn_local(async move {
            let token = outcome.await;
            let waiting = std::mem::take(&mut *pending.borrow_mut());
            for waiter in waiting {
                // A request that gave up waiting has dropped its receiver: nothing to do.
                let _ = waiter.send(token.clone());
            }
        });
        waiters
    }
}

impl Renewer for Core {
    fn renew(&self, stale: &str) -> LocalBoxFuture<'static, Option<Rc<str>>> {
        match self.token() {
            None => async { None }.boxed_local(),
            // Someone renewed it since this request left.
            Some(current) if current != stale => {
                let current: Rc<str> = current.into();
                async move { Some(current) }.boxed_local()
            }
            Some(_) => {
                let (sender, renewal) = oneshot::channel();
                self.start_renewal().borrow_mut().push(sender);
                // No token: the renewal was refused (and has ended the session) or could not
                // get an answer (the session goes on; this request fails as unauthorized, which
                // its caller retries).
                async move { renewal.await.ok().flatten() }.boxed_local()
            }
        }
    }

    fn rejected(&self, token: &str) {
        if self.token().as_deref() == Some(token) {
            self.end(EndReason::Expired);
        }
    }
}

#[cfg(test)]
mod tests;

/// Whether a renewal that failed this way may succeed if tried again: the server was not
/// reached, or answered that it could not do it now. A refusal (401, 403, ...) is final.
fn renewal_may_succeed_later(error: &Error) -> bool {
    match error.code() {
        None => true,
        Some(code) => matches!(
            code,
            ErrorCode::Internal | ErrorCode::ServerBusy | ErrorCode::RateLimited
        ),
    }
}
