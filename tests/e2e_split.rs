//! End to end: the two builds (src/second_build.rs). A patient's pages load only the
//! first-load build, never the second one; their account page, a page of the second build,
//! reloads into it; a doctor who logs in on the first-load build ends on the second build, with
//! their queue. Read from the browser's own list of what the page fetched
//! (`performance.getEntriesByType('resource')`). The second build's own style sheet and the
//! first load's English words come apart too: the one only in the second build, the other
//! fetched only when English is chosen.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use support::{Browser, E2e, dist_dir};

const PATIENT: &str = "lucas.bernard@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

/// The name of the file a page of `dist/` names with `part` in it and `ext` at its end (the
/// first such), if any.
fn named_in(page: &str, part: &str, ext: &str) -> Option<String> {
    let html = std::fs::read_to_string(dist_dir().join(page)).expect("read the page");
    let at = html.find(part)?;
    let start = html[..=at].rfind('/').expect("an absolute path") + 1;
    let end = at + html[at..].find(ext)? + ext.len();
    Some(html[start..end].to_owned())
}

/// The wasm file a page of `dist/` loads.
fn wasm_of(page: &str) -> String {
    named_in(page, "_bg.wasm", "_bg.wasm").expect("the page names its wasm")
}

/// The second build's own style sheet (static/doctor.css), as medecin.html names it; the
/// first load's page must not name it.
fn doctor_sheet() -> String {
    assert_eq!(
        named_in("index.html", "/doctor-", ".css"),
        None,
        "index.html names no doctor's sheet"
    );
    named_in("medecin.html", "/doctor-", ".css").expect("medecin.html names the doctor's sheet")
}

/// How many times this document fetched the first load's English words.
async fn english_fetches(browser: &Browser) -> usize {
    fetched(browser)
        .await
        .iter()
        .filter(|f| *f == "en.json")
        .count()
}

/// The files this document fetched, by name.
async fn fetched(browser: &Browser) -> Vec<String> {
    let names = browser
        .execute(
            "return performance.getEntriesByType('resource')\
               .map(e => new URL(e.name).pathname.split('/').pop());",
            vec![],
        )
        .await;
    serde_json::from_value(names).expect("a list of names")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_fetches_the_second_build_only_for_her_account_and_a_doctor_runs_it_after_login()
{
    let (first, doctor_wasm) = (wasm_of("index.html"), wasm_of("medecin.html"));
    let sheet = doctor_sheet();
    assert_ne!(first, doctor_wasm, "two builds, two wasm files");
    let e2e = E2e::start("split").await;

    // A patient: the login page, then their pages, in one document.
    let patient = e2e.browser(360, 740).await;
    patient.login(PATIENT).await;
    patient.goto("/patient/messages").await;
    patient.wait_testid("conversation-list").await;
    patient.wait_online().await;
    let files = fetched(&patient).await;
    assert!(files.contains(&first), "the first-load wasm: {files:?}");
    assert!(
        !files.contains(&doctor_wasm),
        "the doctor's wasm: {files:?}"
    );
    assert!(!files.contains(&sheet), "the doctor's styles: {files:?}");
    patient.screenshot("patient-first-load").await;

    // Her account page is in the second build: the app's own link reloads into it, and she is
    // still logged in there.
    patient.follow_app_link("/patient/securite").await;
    patient.wait_testid("devices").await;
    let files = fetched(&patient).await;
    assert!(files.contains(&doctor_wasm), "the second build: {files:?}");
    assert!(
        !files.contains(&first),
        "this document is the second build: {files:?}"
    );
    patient.screenshot("patient-account-second-build").await;

    // A doctor logs in on the first-load build and lands on their inbox in the second build.
    let doctor = e2e.browser(1280, 900).await;
    doctor.login(DOCTOR).await;
    doctor.wait_testid("queue-stages").await;
    let path = doctor.execute("return location.pathname;", vec![]).await;
    assert_eq!(path, serde_json::json!("/medecin/messages"));
    let files = fetched(&doctor).await;
    assert!(files.contains(&doctor_wasm), "the doctor's wasm: {files:?}");
    assert!(
        !files.contains(&first),
        "this document is the second build: {files:?}"
    );
    // The queue's toggles are laid out by the second build's own sheet (a row, where a plain
    // div would stack them).
    assert!(files.contains(&sheet), "the doctor's styles: {files:?}");
    let display = doctor
        .execute(
            "return getComputedStyle(document.querySelector(\"[data-testid='queue-stages']\")).display;",
            vec![],
        )
        .await;
    assert_eq!(display, serde_json::json!("flex"), "styled by {sheet}");
    doctor.screenshot("doctor-after-login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_load_fetches_its_english_words_only_for_english_and_keeps_the_choice() {
    let e2e = E2e::start("english").await;
    // A desktop: the switch and the sign-out button are in view without the phone's menu.
    let patient = e2e.browser(1280, 900).await;

    // In French, the default, nothing fetches the English words.
    patient.goto("/login").await;
    let switch = patient.wait_testid("lang-switch").await;
    assert_eq!(switch.text().await.expect("the switch's words"), "English");
    assert_eq!(patient.title().await, "Connexion — Colloque");
    assert_eq!(english_fetches(&patient).await, 0);

    // The switch fetches them, then the page is in English.
    patient.click_testid("lang-switch").await;
    patient
        .wait_for_element_containing("[data-testid='login-submit']", "Sign in")
        .await;
    assert_eq!(english_fetches(&patient).await, 1);
    let lang = patient
        .execute("return document.documentElement.lang;", vec![])
        .await;
    assert_eq!(lang, serde_json::json!("en"));
    patient.screenshot("login-in-english").await;

    // The choice is kept: signed in and reloaded, the app starts in English.
    patient.login(PATIENT).await;
    patient.refresh().await;
    let words = patient.wait_testid("logout").await.text().await;
    assert_eq!(words.expect("the sign-out button's words"), "Sign out");
    patient.wait_testid("messaging-button").await;
    patient.screenshot("patient-home-in-english").await;

    // Back to French without fetching anything: the one en.json of this page is the start's.
    patient.click_testid("lang-switch").await;
    patient
        .wait_for_element_containing("[data-testid='logout']", "Se déconnecter")
        .await;
    assert_eq!(english_fetches(&patient).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_and_the_home_screen_icon_are_served_at_their_sizes() {
    let e2e = E2e::start("icons").await;
    let browser = e2e.browser(360, 740).await;
    browser.goto("/login").await;
    let found = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             (async () => {
                 const manifest = await (await fetch('/manifest.webmanifest')).json();
                 const size = async (src) => {
                     const response = await fetch(src);
                     const blob = await response.blob();
                     let size = 'any';
                     if (blob.type === 'image/png') {
                         const image = await createImageBitmap(blob);
                         size = image.width + 'x' + image.height;
                     }
                     return {src, ok: response.ok, type: blob.type, size};
                 };
                 const icons = [];
                 for (const icon of manifest.icons) {
                     icons.push({...(await size(icon.src)), sizes: icon.sizes, stated: icon.type,
                                 purpose: icon.purpose});
                 }
                 const apple = document.querySelector(\"link[rel='apple-touch-icon']\");
                 done({icons, apple: apple && await size(apple.getAttribute('href'))});
             })().catch((e) => done({error: String(e)}));",
        )
        .await;
    assert!(found.get("error").is_none(), "{found}");
    let icons = found["icons"].as_array().expect("the manifest's icons");
    for icon in icons {
        assert_eq!(icon["ok"], true, "{icon}");
        assert_eq!(icon["type"], icon["stated"], "{icon}");
        assert_eq!(icon["size"], icon["sizes"], "{icon}");
    }
    for (sizes, purpose) in [
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    ] {
        assert!(
            icons.iter().any(|i| i["sizes"] == sizes
                && i["purpose"] == purpose
                && i["stated"] == "image/png"),
            "a {purpose} PNG of {sizes}: {icons:?}"
        );
    }
    let apple = &found["apple"];
    assert_eq!(apple["ok"], true, "{apple}");
    assert_eq!(apple["type"], "image/png", "{apple}");
    assert_eq!(apple["size"], "180x180", "{apple}");
    browser.close().await;
}

/// What the static first screen (index.html, before the wasm has loaded) shows: its title,
/// intro, labels, button and language switch as a user sees them (drawn elements only, and
/// their `innerText`, which leaves out what is not displayed), and the page's language.
async fn static_screen(browser: &Browser) -> serde_json::Value {
    browser
        .execute(
            "const shell = document.getElementById('shell');
             if (!shell) return null;
             const seen = css => [...shell.querySelectorAll(css)]
               .filter(e => e.getClientRects().length > 0)
               .map(e => e.innerText.trim()).filter(t => t);
             return {
               lang: document.documentElement.lang,
               title: seen('h2'), intro: seen('form > p'), labels: seen('label'),
               submit: seen('button[type=submit]'), switch: seen('.top button'),
             };",
            vec![],
        )
        .await
}

/// Whether the static login form shows, and the static "loading" line's words if it shows.
async fn static_loading(browser: &Browser) -> serde_json::Value {
    browser
        .execute(
            "const seen = e => !!e && e.getClientRects().length > 0;
             const line = document.getElementById('shell-loading');
             return {form: seen(document.querySelector('#shell form')),
                     loading: seen(line) ? line.innerText.trim() : null};",
            vec![],
        )
        .await
}

/// A device where English was chosen gets the static first screen in English, not French
/// for a moment: while the wasm is still on its way (held here by the browser, as a slow
/// network would), the login form, its labels and the switch are in the saved language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_static_first_screen_is_in_the_language_chosen_on_the_device() {
    let e2e = E2e::start("first-screen-language").await;
    let phone = e2e.browser(360, 740).await;
    // The app's wasm never arrives: only index.html's own screen shows (and no service worker
    // is registered, since the app registers it).
    phone
        .cdp(
            "Fetch.enable",
            serde_json::json!({"patterns": [{"urlPattern": "*.wasm"}]}),
        )
        .await;
    phone.goto("/login").await;
    assert_eq!(
        static_screen(&phone).await,
        serde_json::json!({
            "lang": "fr", "title": ["Connexion"],
            "intro": ["Connectez-vous pour écrire à votre équipe de soins."],
            "labels": ["Adresse e-mail", "Mot de passe", "Ordinateur partagé"],
            "submit": ["Se connecter"], "switch": ["English"],
        })
    );
    phone
        .execute(
            "localStorage.setItem('colloque.lang', JSON.stringify('En')); return true;",
            vec![],
        )
        .await;
    phone.refresh().await;
    assert_eq!(
        static_screen(&phone).await,
        serde_json::json!({
            "lang": "en", "title": ["Sign in"],
            "intro": ["Sign in to write to your care team."],
            "labels": ["Email address", "Password", "Shared computer"],
            "submit": ["Sign in"], "switch": ["Français"],
        })
    );
    phone.screenshot("static-login-in-english").await;

    // A tab that waits for the second step of a login handed over (or with a saved session)
    // shows no static form but a "loading" line in its language until the app draws, rather
    // than a blank page.
    assert_eq!(
        static_loading(&phone).await,
        serde_json::json!({"form": true, "loading": null})
    );
    phone
        .execute(
            "sessionStorage.setItem('colloque.login-challenge', '0held'); return true;",
            vec![],
        )
        .await;
    phone.refresh().await;
    assert_eq!(
        static_loading(&phone).await,
        serde_json::json!({"form": false, "loading": "Loading…"})
    );
    phone
        .execute(
            "localStorage.removeItem('colloque.lang'); return true;",
            vec![],
        )
        .await;
    phone.refresh().await;
    assert_eq!(
        static_loading(&phone).await,
        serde_json::json!({"form": false, "loading": "Chargement…"})
    );
    phone.screenshot("static-loading").await;
}
