//! A modal alert dialog with two choices: the safe one (focused at once, also chosen by
//! Escape) and the one that ends something. Used by the automatic logoff's warning and by the
//! logout button when messages are still waiting to be sent. An in-page dialog rather than the
//! browser's `confirm`, which some embedded browsers (app WebViews) silently answer "no".

use web_sys::HtmlElement;
use yew::prelude::*;

/// Props of [`AlertDialog`].
#[derive(Properties, PartialEq)]
pub struct AlertDialogProps {
    /// The dialog's `data-testid`; its title and text get ids derived from it.
    pub id: AttrValue,
    /// The heading.
    pub title: AttrValue,
    /// The explanation (paragraphs).
    pub children: Html,
    /// The safe choice ("Rester connecté", "Annuler"): focused, and chosen by Escape.
    pub safe: AttrValue,
    /// The safe button's `data-testid`.
    pub safe_id: AttrValue,
    /// What the safe choice does.
    pub on_safe: Callback<()>,
    /// The other choice ("Se déconnecter").
    pub risky: AttrValue,
    /// Its `data-testid`.
    pub risky_id: AttrValue,
    /// What it does.
    pub on_risky: Callback<()>,
}

/// The dialog. Tab and Shift+Tab move between its two buttons and never leave it.
#[component]
pub fn AlertDialog(props: &AlertDialogProps) -> Html {
    let safe_button = use_node_ref();
    let risky_button = use_node_ref();
    {
        let safe_button = safe_button.clone();
        use_effect_with((), move |_| {
            if let Some(button) = safe_button.cast::<HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let safe = {
        let on_safe = props.on_safe.clone();
        Callback::from(move |_: MouseEvent| on_safe.emit(()))
    };
    let risky = {
        let on_risky = props.on_risky.clone();
        Callback::from(move |_: MouseEvent| on_risky.emit(()))
    };
    let onkeydown = {
        let on_safe = props.on_safe.clone();
        let (safe_button, risky_button) = (safe_button.clone(), risky_button.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => on_safe.emit(()),
            "Tab" => {
                e.prevent_default();
                let active = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element());
                let on_safe_button = active.is_some_and(|a| {
                    safe_button
                        .get()
                        .is_some_and(|b| b.is_same_node(Some(a.as_ref())))
                });
                let next = if on_safe_button {
                    &risky_button
                } else {
                    &safe_button
                };
                if let Some(button) = next.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            }
            _ => {}
        })
    };
    let id = &props.id;
    html! {
        <div class="dialog-backdrop">
            <div class="dialog" role="alertdialog" aria-modal="true"
                aria-labelledby={format!("{id}-title")} aria-describedby={format!("{id}-text")}
                data-testid={id.clone()} {onkeydown}>
                <h2 id={format!("{id}-title")}>{ props.title.clone() }</h2>
                <div class="dialog-text" id={format!("{id}-text")}>{ props.children.clone() }</div>
                <div class="dialog-actions">
                    <button type="button" ref={safe_button} data-testid={props.safe_id.clone()} onclick={safe}>
                        { props.safe.clone() }
                    </button>
                    <button type="button" class="secondary" ref={risky_button}
                        data-testid={props.risky_id.clone()} onclick={risky}>
                        { props.risky.clone() }
                    </button>
                </div>
            </div>
        </div>
    }
}
