//! Entry point of the Colloque single-page app. Everything lives in the library so tests can
//! import it.

fn main() {
    yew::Renderer::<colloque::app::App>::new().render();
}
