//! Stylist under a strict Content Security Policy.
//!
//! The server sends `style-src 'self'` without `'unsafe-inline'`: the browser ignores every
//! `<style>` element and `style="…"` attribute. Stylist mounts each style as a `<style>`
//! element, so its styles would be dropped. Constructable stylesheets are not inline styles:
//! a sheet built with `new CSSStyleSheet()` + `replaceSync` and adopted through
//! `document.adoptedStyleSheets` applies under that policy.
//!
//! So stylist gets a [`StyleManager`] whose container is a DETACHED element (never in the
//! document, so its `<style>` children are never parsed as inline styles), and a
//! `MutationObserver` on that container mirrors its whole text into ONE adopted sheet each time
//! a style is added or removed. Components keep authoring styles with `css!` / `use_style!`.
//!
//! The observer's callback is a microtask: it runs before the browser paints, so there is no
//! flash of unstyled content. Where constructable stylesheets are missing (Safari < 16.4),
//! stylist keeps its default (`<style>` in `<head>`), which is what it did before.

use stylist::manager::StyleManager;
use stylist::yew::ManagerProvider;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use yew::prelude::*;

struct Bridge {
    manager: StyleManager,
    // Kept alive for the page's lifetime: the observer calls into this closure.
    _observer: web_sys::MutationObserver,
    _on_change: Closure<dyn FnMut()>,
}

thread_local! {
    static BRIDGE: Option<Bridge> = install();
}

fn install() -> Option<Bridge> {
    let document = web_sys::window()?.document()?;
    let supported = js_sys::Reflect::has(&document, &"adoptedStyleSheets".into()).ok()?;
    if !supported {
        return None;
    }
    let sheet = web_sys::CssStyleSheet::new().ok()?;
    let container = document.create_element("div").ok()?;

    let on_change = {
        let (container, sheet) = (container.clone(), sheet.clone());
        Closure::<dyn FnMut()>::new(move || {
            // Each child is one of stylist's `<style>` elements: their texts, in order.
            let css = container.text_content().unwrap_or_default();
            let _ = sheet.replace_sync(&css);
        })
    };
    let observer = web_sys::MutationObserver::new(on_change.as_ref().unchecked_ref()).ok()?;
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    options.set_character_data(true);
    observer.observe_with_options(&container, &options).ok()?;

    // Added to whatever sheets are already adopted, never replacing them.
    let adopted = document.adopted_style_sheets();
    adopted.push(&sheet);
    document.set_adopted_style_sheets(&adopted);

    let manager = StyleManager::builder()
        .container(container.into())
        .build()
        .ok()?;
    Some(Bridge {
        manager,
        _observer: observer,
        _on_change: on_change,
    })
}

/// The page's one bridged style manager, if the browser supports constructable stylesheets.
pub fn style_manager() -> Option<StyleManager> {
    BRIDGE.with(|bridge| bridge.as_ref().map(|b| b.manager.clone()))
}

/// Props of [`StyleProvider`].
#[derive(Properties, PartialEq)]
pub struct StyleProviderProps {
    /// The styled app.
    #[prop_or_default]
    pub children: Html,
}

/// Gives every stylist style below it the bridged manager. Put it above anything styled.
#[component]
pub fn StyleProvider(props: &StyleProviderProps) -> Html {
    match style_manager() {
        Some(manager) => html! {
            <ManagerProvider {manager}>{ props.children.clone() }</ManagerProvider>
        },
        None => props.children.clone(),
    }
}
