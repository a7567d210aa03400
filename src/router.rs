//! The app's router: which page the address shows (a [`Route`]), moving between pages without
//! reloading (the History API, the back and forward buttons included), a redirect, and links
//! the router follows.
//!
//! Written here rather than taken from yew-router (its `BrowserRouter`, `Switch`, `Redirect` and
//! navigator, over gloo-history's history objects and listeners): the app used those four
//! pieces, with fixed paths and no query or state, and this is what it needs of them.
//! Measured with `cargo xtask build`: the first load went from 205,312 to 198,819 bytes brotli
//! (the wasm −6.3 KB, its glue −0.2 KB); docs/bundle.md.

use crate::route::Route;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Where a router keeps its address: the browser's (the app), or a path in memory, for tests
/// that mount pages without moving the test page's own address.
#[derive(Clone)]
pub struct MemoryPath(Rc<RefCell<String>>);

impl MemoryPath {
    /// An address in memory, starting at `path`.
    pub fn at(path: &str) -> Self {
        Self(Rc::new(RefCell::new(path.to_owned())))
    }

    /// The path it is at now.
    pub fn path(&self) -> String {
        self.0.borrow().clone()
    }
}

impl PartialEq for MemoryPath {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Moves the router to another page. The same value for as long as the router lives.
#[derive(Clone)]
pub struct Navigator(Rc<NavigatorInner>);

struct NavigatorInner {
    route: UseStateSetter<Route>,
    memory: Option<MemoryPath>,
}

impl PartialEq for Navigator {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Navigator {
    /// Goes to `to`, as a new entry of the tab's history (Back returns here).
    pub fn push(&self, to: &Route) {
        self.go(to, false);
    }

    /// Goes to `to` in place of the current entry (Back skips it): redirects, the end of a
    /// session.
    pub fn replace(&self, to: &Route) {
        self.go(to, true);
    }

    fn go(&self, to: &Route, replace: bool) {
        let path = to.to_path();
        match &self.0.memory {
            Some(memory) => *memory.0.borrow_mut() = path,
            None => {
                if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                    let null = wasm_bindgen::JsValue::NULL;
                    let _ = if replace {
                        history.replace_state_with_url(&null, "", Some(&path))
                    } else {
                        history.push_state_with_url(&null, "", Some(&path))
                    };
                }
            }
        }
        self.0.route.set(to.clone());
    }
}

/// The page the browser's address shows.
fn browser_route() -> Route {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    Route::recognize(&path)
}

/// The current route, for the pages below a [`Router`].
#[derive(Clone, PartialEq)]
struct CurrentRoute(Route);

/// Props of [`Router`].
#[derive(Properties, PartialEq)]
pub struct RouterProps {
    /// An address in memory instead of the browser's (tests).
    #[prop_or_default]
    pub memory: Option<MemoryPath>,
    /// What the router wraps.
    #[prop_or_default]
    pub children: Html,
}

/// Provides the current route and the [`Navigator`] to everything below it.
#[component]
pub fn Router(props: &RouterProps) -> Html {
    let route = {
        let memory = props.memory.clone();
        use_state(move || match memory {
            Some(memory) => Route::recognize(&memory.path()),
            None => browser_route(),
        })
    };
    let navigator = {
        let (setter, memory) = (route.setter(), props.memory.clone());
        use_state(move || {
            Navigator(Rc::new(NavigatorInner {
                route: setter,
                memory,
            }))
        })
    };
    // Back and forward: the browser moved the address itself.
    {
        let setter = route.setter();
        use_effect_with(props.memory.is_none(), move |&browser| {
            let listener = browser.then(|| {
                let window = web_sys::window().expect("a window");
                gloo_events::EventListener::new(&window, "popstate", move |_| {
                    setter.set(browser_route())
                })
            });
            move || drop(listener)
        });
    }
    html! {
        <ContextProvider<Navigator> context={(*navigator).clone()}>
            <ContextProvider<CurrentRoute> context={CurrentRoute((*route).clone())}>
                { props.children.clone() }
            </ContextProvider<CurrentRoute>>
        </ContextProvider<Navigator>>
    }
}

/// The [`Navigator`] of the router above, if any.
#[hook]
pub fn use_navigator() -> Option<Navigator> {
    use_context::<Navigator>()
}

/// The current route, if a router is above; the component renders again when it changes.
#[hook]
pub fn use_route() -> Option<Route> {
    use_context::<CurrentRoute>().map(|current| current.0)
}

/// Props of [`Redirect`].
#[derive(Properties, PartialEq)]
pub struct RedirectProps {
    /// Where to go.
    pub to: Route,
}

/// Goes to `to` once rendered, in place of the current entry of the tab's history: Back does
/// not return to a page that only redirects (which would send the user forward again).
#[component]
pub fn Redirect(props: &RedirectProps) -> Html {
    let navigator = use_navigator();
    use_effect_with(props.to.clone(), move |to| {
        if let Some(navigator) = navigator {
            navigator.replace(to);
        }
    });
    Html::default()
}

/// A link to a route that the router follows without reloading the page; see
/// [`in_app_click`].
pub fn route_link(
    navigator: &Option<Navigator>,
    to: Route,
    class: Option<&'static str>,
    current: bool,
    children: Html,
) -> Html {
    let href = to.to_path();
    let onclick = in_app_click(navigator, to);
    html! {
        <a {href} {class} aria-current={current.then_some("page")} {onclick}>{ children }</a>
    }
}

/// The click handler of a link to `to`: a plain click navigates in the app (no reload); a
/// click with a modifier key or another mouse button is left to the browser (new tab,
/// window, download).
pub fn in_app_click(navigator: &Option<Navigator>, to: Route) -> Callback<MouseEvent> {
    let navigator = navigator.clone();
    Callback::from(move |e: MouseEvent| {
        if e.button() != 0 || e.meta_key() || e.ctrl_key() || e.shift_key() || e.alt_key() {
            return;
        }
        // Without a router (never in the app) the browser follows the link itself.
        let Some(navigator) = &navigator else {
            return;
        };
        e.prevent_default();
        navigator.push(&to);
    })
}
