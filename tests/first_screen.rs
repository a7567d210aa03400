//! The static first screen's takeover, in the browser: index.html's copy of the login form
//! (recreated here as the page has it) gives way to the app's real one, with what was typed
//! and where the caret was carried over (`colloque::shell`).
#![cfg(target_arch = "wasm32")]

use colloque::app::Providers;
use colloque::config::Config;
use colloque::i18n::Lang;
use colloque::pages::login::Login;
use colloque::router::{MemoryPath, Router};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlInputElement;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

#[component]
fn LoginPage() -> Html {
    let config = Rc::new(Config::resolve("", "", "http:", "localhost"));
    let memory = Some(MemoryPath::at("/"));
    html! {
        <Router {memory}>
            <Providers {config} lang={Some(Lang::Fr)}>
                <Login />
            </Providers>
        </Router>
    }
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn input(id: &str) -> HtmlInputElement {
    document()
        .get_element_by_id(id)
        .unwrap_or_else(|| panic!("no #{id}"))
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn what_was_typed_into_the_static_form_moves_into_the_app_s_and_the_copy_goes() {
    let body = document().body().unwrap();
    let shell = document().create_element("div").unwrap();
    shell.set_id("shell");
    shell.set_inner_html(
        r#"<form><input id="shell-email" type="email"><input id="shell-password" type="password">
           <button type="submit" disabled>Se connecter</button></form>"#,
    );
    body.append_child(&shell).unwrap();
    input("shell-email").set_value("emma.petit@colloque.test");
    input("shell-password").set_value("mot de passe tapé tôt");
    input("shell-password").focus().unwrap();

    let root = document().create_element("div").unwrap();
    body.append_child(&root).unwrap();
    let app = yew::Renderer::<LoginPage>::with_root(root.clone()).render();
    yew::scheduler::flush().await;

    assert!(
        document().get_element_by_id("shell").is_none(),
        "the static copy is removed once the app has rendered"
    );
    assert_eq!(input("login-email").value(), "emma.petit@colloque.test");
    assert_eq!(input("login-password").value(), "mot de passe tapé tôt");
    assert_eq!(
        document().active_element().map(|e| e.id()).as_deref(),
        Some("login-password"),
        "the caret stays in the field the user was typing in"
    );
    assert_eq!(
        document().query_selector_all("form").unwrap().length(),
        1,
        "one login form in the page"
    );
    app.destroy();
    root.remove();
}

#[wasm_bindgen_test]
async fn without_a_static_copy_the_app_renders_as_usual() {
    let body = document().body().unwrap();
    let root = document().create_element("div").unwrap();
    body.append_child(&root).unwrap();
    let app = yew::Renderer::<LoginPage>::with_root(root.clone()).render();
    yew::scheduler::flush().await;
    assert_eq!(input("login-email").value(), "");
    assert!(document().get_element_by_id("login-password").is_some());
    app.destroy();
    root.remove();
}
