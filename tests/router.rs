//! The app's router (`colloque::router`) on the test page's real address: a push is a new
//! entry of the tab's history and Back returns to the page before it, a redirect replaces its
//! entry, and a link followed in the app does not reload the page.
#![cfg(target_arch = "wasm32")]

use colloque::route::Route;
use colloque::router::{Navigator, Redirect, Router, route_link, use_navigator, use_route};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static NAVIGATOR: RefCell<Option<Navigator>> = const { RefCell::new(None) };
}

/// Shows the current route, keeps the navigator for the test, a link to the care team, and a
/// redirect to the dashboard while the route is the appointments page.
#[component]
fn Probe() -> Html {
    let route = use_route();
    let navigator = use_navigator();
    NAVIGATOR.with(|n| *n.borrow_mut() = navigator.clone());
    let link = route_link(
        &navigator,
        Route::PatientCareTeam,
        None,
        false,
        html! { "Équipe" },
    );
    html! {
        <>
            <p id="route">{ route.as_ref().map(Route::to_path).unwrap_or_default() }</p>
            <nav id="link">{ link }</nav>
            if route == Some(Route::PatientAppointments) {
                <Redirect to={Route::PatientDashboard} />
            }
        </>
    }
}

#[component]
fn Harness() -> Html {
    html! { <Router><Probe /></Router> }
}

fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

fn shown() -> String {
    window()
        .document()
        .unwrap()
        .get_element_by_id("route")
        .unwrap()
        .text_content()
        .unwrap_or_default()
}

fn pathname() -> String {
    window().location().pathname().unwrap()
}

fn history_length() -> u32 {
    window().history().unwrap().length().unwrap()
}

fn navigator() -> Navigator {
    NAVIGATOR
        .with(|n| n.borrow().clone())
        .expect("the probe has rendered")
}

/// Lets the browser run its tasks (a popstate after Back) and Yew render.
async fn settle(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        gloo_timers::future::TimeoutFuture::new(10).await;
        yew::scheduler::flush().await;
        if check() {
            return;
        }
    }
    panic!("never happened: {what}");
}

/// Back, as the browser's button: the address and then the page show `path` again.
async fn back_to(path: &str) {
    window().history().unwrap().back().unwrap();
    settle(&format!("Back shows {path}"), || shown() == path).await;
    assert_eq!(pathname(), path);
}

#[wasm_bindgen_test]
async fn pages_change_in_the_address_and_the_history_without_a_reload() {
    let start = window().location().href().unwrap();
    let root = window().document().unwrap().create_element("div").unwrap();
    window()
        .document()
        .unwrap()
        .body()
        .unwrap()
        .append_child(&root)
        .unwrap();
    // The router starts from the address as it is: here no page of the app.
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/nowhere"))
        .unwrap();
    let app = yew::Renderer::<Harness>::with_root(root.clone()).render();
    yew::scheduler::flush().await;
    assert_eq!(shown(), "/404", "an unknown path is the not-found page");

    // A push: a new entry, the address and the page follow.
    let before = history_length();
    navigator().push(&Route::PatientMessages);
    yew::scheduler::flush().await;
    assert_eq!(pathname(), "/patient/messages");
    assert_eq!(shown(), "/patient/messages");
    assert_eq!(history_length(), before + 1);

    // A plain click on a link: the router follows it, the page is not reloaded (the marker
    // set on the window survives) and the address changes.
    js_sys::Reflect::set(&window(), &"routerMarker".into(), &true.into()).unwrap();
    let anchor: web_sys::HtmlElement = window()
        .document()
        .unwrap()
        .query_selector("#link a")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(
        anchor.get_attribute("href").as_deref(),
        Some("/patient/equipe")
    );
    anchor.click();
    yew::scheduler::flush().await;
    assert_eq!(pathname(), "/patient/equipe");
    assert_eq!(shown(), "/patient/equipe");
    assert_eq!(
        js_sys::Reflect::get(&window(), &"routerMarker".into()).unwrap(),
        true,
        "the same page: nothing reloaded"
    );

    // Back: the browser moves the address, the router follows it.
    back_to("/patient/messages").await;

    // A redirect replaces its entry: the history does not grow, and Back skips it.
    navigator().push(&Route::PatientAppointments);
    let pushed = history_length();
    assert_eq!(pathname(), "/patient/rendez-vous");
    settle("the redirect to the dashboard", || shown() == "/patient").await;
    assert_eq!(pathname(), "/patient");
    assert_eq!(
        history_length(),
        pushed,
        "the redirect took the pushed entry's place"
    );
    back_to("/patient/messages").await;

    app.destroy();
    root.remove();
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&start))
        .unwrap();
}
