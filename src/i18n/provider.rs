//! The translation context: the current language, the way to change it, and its provider.

use super::{Key, Lang, STORAGE_KEY, english, error_key, fill};
use colloque_protocol::ErrorCode;
use gloo_storage::{LocalStorage, Storage};
use yew::prelude::*;

/// The translation context: the current language and a way to change it.
#[derive(Clone, PartialEq)]
pub struct I18n {
    /// The current language.
    pub lang: Lang,
    pub(super) set: Callback<Lang>,
}

impl I18n {
    /// The text of `key`.
    pub fn t(&self, key: Key) -> &'static str {
        key.text(self.lang)
    }

    /// The text of `key` with its `{}` filled.
    pub fn tf(&self, key: Key, args: &[&str]) -> String {
        fill(key.text(self.lang), args)
    }

    /// "1 message non lu", "3 messages non lus": the words after an unread count, singular or
    /// plural (French: 0 and 1 are singular, English: only 1).
    pub fn unread_words(&self, n: u32) -> &'static str {
        let singular = match self.lang {
            Lang::Fr => n <= 1,
            Lang::En => n == 1,
        };
        self.t(if singular {
            Key::UnreadOne
        } else {
            Key::UnreadMany
        })
    }

    /// The plain-words message for an error code.
    pub fn error(&self, code: ErrorCode) -> &'static str {
        self.t(error_key(code))
    }

    /// Switches the language (and remembers the choice).
    pub fn set_lang(&self, lang: Lang) {
        self.set.emit(lang);
    }
}

/// Props of [`I18nProvider`].
#[derive(Properties, PartialEq)]
pub struct I18nProviderProps {
    /// Forces a language (tests); otherwise the saved choice, else French.
    #[prop_or_default]
    pub lang: Option<Lang>,
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// The language saved on this device, if any.
fn saved_lang() -> Option<Lang> {
    let text = LocalStorage::raw().get_item(STORAGE_KEY).ok()??;
    crate::services::json::from_str(&text).ok()
}

/// What fetching the English words gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnglishWords {
    /// English can be shown: compiled in, or fetched.
    Ready,
    /// Another build's words: the server has a newer app than this page.
    OtherBuild,
    /// None to be had (offline and never kept, or not a list of words).
    Unavailable,
}

/// Fetches the English words if this build needs them.
pub async fn fetch_english() -> EnglishWords {
    if english::ready() {
        return EnglishWords::Ready;
    }
    match crate::services::config::english_words()
        .await
        .map(english::install)
    {
        Some(true) => EnglishWords::Ready,
        Some(false) => EnglishWords::OtherBuild,
        None => EnglishWords::Unavailable,
    }
}

/// Before the first screen: the English words when English is the saved choice and this build
/// fetches them (the app waits for them with `config.json`, so the screen does not start in
/// French).
pub async fn prepare() {
    if saved_lang() == Some(Lang::En) {
        fetch_english().await;
    }
}

/// Provides [`I18n`] to the tree.
#[component]
pub fn I18nProvider(props: &I18nProviderProps) -> Html {
    let initial = props.lang;
    let lang = use_state(move || {
        initial
            .or_else(saved_lang)
            // English words that could not be fetched: French rather than a mix of both.
            .filter(|lang| *lang == Lang::Fr || english::ready())
            .unwrap_or_default()
    });
    {
        let lang = *lang;
        use_effect_with(lang, move |_| {
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("lang", &lang.locale()[..2]);
            }
        });
    }
    let set = {
        let lang = lang.clone();
        Callback::from(move |next: Lang| {
            let switch = {
                let lang = lang.clone();
                move || {
                    // A storage failure (private mode, quota) only loses the preference.
                    let _ = LocalStorage::set(STORAGE_KEY, next);
                    lang.set(next);
                }
            };
            if next == Lang::Fr || english::ready() {
                switch();
            } else {
                wasm_bindgen_futures::spawn_local(async move {
                    match fetch_english().await {
                        EnglishWords::Ready => switch(),
                        // A newer app was deployed since this page loaded: the choice is kept
                        // and the page reloads into it, whose words these are.
                        EnglishWords::OtherBuild => {
                            let _ = LocalStorage::set(STORAGE_KEY, next);
                            if let Some(window) = web_sys::window() {
                                let _ = window.location().reload();
                            }
                        }
                        // Without its words (offline, never fetched), English is not switched on.
                        EnglishWords::Unavailable => {}
                    }
                });
            }
        })
    };
    let context = I18n { lang: *lang, set };
    html! {
        <ContextProvider<I18n> {context}>{ props.children.clone() }</ContextProvider<I18n>>
    }
}

/// The translation context.
#[hook]
pub fn use_i18n() -> I18n {
    use_context::<I18n>().expect("I18nProvider is above every component")
}
