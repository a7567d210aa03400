//! End to end: the release build of the app, served by the real server (embedded SQLite, demo
//! data, loopback port 0), driven in headless Chromium through ChromeDriver (WebDriver).
//!
//! Run it through `cargo xtask test`, which builds `dist/` first and installs the browser.
//! It needs `COLLOQUE_DIST` (the built app) and `CHROMEDRIVER` (the driver binary). Screenshots
//! of each step land in `COLLOQUE_E2E_OUT` (default `target/e2e/`).
//!
//! Waits are bounded polls for a DOM condition, never fixed sleeps, and no test asserts a
//! wall-clock duration.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use support::{E2e, child_testid};

const PATIENT: &str = "lucas.bernard@colloque.test";
const OTHER_PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_and_a_doctor_converse_in_real_time_and_nobody_else_sees_it() {
    let e2e = E2e::start("conversation").await;
    let patient = e2e.browser(360, 740).await; // the narrowest phone we support
    let doctor = e2e.browser(1280, 900).await; // a desktop
    let emma = e2e.browser(390, 844).await;

    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/messages").await;
    doctor.wait_testid("conversation-list").await;
    doctor.mark_page().await;

    emma.login(OTHER_PATIENT).await;
    emma.goto("/patient").await;
    emma.wait_testid("messaging-button").await;
    emma.mark_page().await;

    // 1. The patient opens the MessagingButton of her appointment with Dr Martin and writes.
    patient.login(PATIENT).await;
    // On her 360 px phone the header is one compact row (name, messaging, connection dot,
    // menu button); the navigation, language and logout wait behind the menu button. (While
    // the socket connects, "Connexion…" keeps its words on a row of its own: measure online.)
    patient.wait_online().await;
    let header = patient
        .execute(
            "return document.querySelector('header').getBoundingClientRect().height;",
            vec![],
        )
        .await;
    let header = header.as_f64().expect("the header's height");
    assert!(
        header <= 64.0,
        "the phone header is {header} px high, not one row"
    );
    assert!(
        !patient.is_displayed("#app-nav").await,
        "the phone menu starts folded"
    );
    assert!(patient.is_displayed("[data-testid='menu-toggle']").await);
    assert!(
        patient
            .is_displayed("header [data-testid='messaging-button']")
            .await
    );
    patient
        .open_conversation_from_appointment("Claire Martin")
        .await;
    let first = "Bonjour docteur, j'ai une question sur mon ordonnance.";
    patient.write(first).await;
    patient.wait_message("sent", first).await;
    patient
        .screenshot("1-patient-writes-from-appointment")
        .await;

    // The patient goes back to her dashboard inside the app (no reload) to await the reply,
    // through the phone menu.
    patient.click_testid("menu-toggle").await;
    assert!(
        patient.is_displayed("#app-nav").await,
        "the menu button unfolds the menu"
    );
    patient.screenshot("1b-patient-phone-menu").await;
    patient.click_css("#app-nav a[href='/patient']").await;
    patient.wait_testid("emergency-note").await;
    patient.mark_page().await;

    // 2. The doctor's inbox shows the conversation, unread, with no reload.
    let item = doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Lucas Bernard")
        .await;
    let unread = doctor
        .wait_until(|| async {
            let badge = child_testid(&item, "conversation-unread").await?;
            let text = badge.text().await.ok()?;
            (text.trim() == "1").then_some(text)
        })
        .await;
    assert_eq!(unread.trim(), "1");
    // The tab's title carries the total unread (the header badge's count), so a doctor
    // working in another tab sees it.
    doctor
        .wait_until(|| async {
            let badge = doctor
                .find_css("header [data-testid='unread-badge']")
                .await?
                .text()
                .await
                .ok()?;
            let title = doctor.title().await;
            (title == format!("({}) Messagerie — Colloque", badge.trim())).then_some(())
        })
        .await;
    doctor.assert_not_reloaded().await;
    doctor.screenshot("2-doctor-inbox-unread").await;

    // 3. The doctor opens it, reads the patient's message and replies.
    item.click().await.expect("open the conversation");
    doctor
        .wait_for_element_containing("[data-testid='message-body']", first)
        .await;
    let reply = "Bonjour, je vous ai renvoyé l'ordonnance ce matin.";
    doctor.write(reply).await;
    doctor.wait_message("sent", reply).await;
    doctor.screenshot("3-doctor-replies").await;

    // 4. The patient's badge updates live, then the conversation shows the reply.
    let badge = patient
        .wait_until(|| async {
            let button = patient
                .find_css("header [data-testid='messaging-button']")
                .await?;
            let badge = child_testid(&button, "unread-badge").await?;
            let text = badge.text().await.ok()?;
            (text.trim() == "1").then_some(text)
        })
        .await;
    assert_eq!(badge.trim(), "1");
    patient.assert_not_reloaded().await;
    patient.screenshot("4a-patient-badge").await;
    patient
        .click_css("header [data-testid='messaging-button']")
        .await;
    let item = patient
        .wait_for_element_containing("[data-testid='conversation-item']", "Claire Martin")
        .await;
    item.click().await.expect("open the conversation");
    patient
        .wait_for_element_containing("[data-testid='message-body']", reply)
        .await;
    patient
        .wait_until(|| async {
            let button = patient
                .find_css("header [data-testid='messaging-button']")
                .await?;
            // The badge disappears once the conversation has been seen.
            match child_testid(&button, "unread-badge").await {
                Some(_) => None,
                None => Some(()),
            }
        })
        .await;
    patient.screenshot("4b-patient-reads-reply").await;

    // 5. A second patient sees none of it: not in her inbox, not in her badge, not anywhere
    //    in her page.
    emma.click_css("header [data-testid='messaging-button']")
        .await;
    emma.wait_testid("conversation-list").await;
    emma.wait_for_element_containing("[data-testid='conversation-item']", "Résultats")
        .await;
    let source = emma.source().await;
    assert!(!source.contains(first), "Emma's page shows Lucas's message");
    assert!(
        !source.contains(reply),
        "Emma's page shows Dr Martin's reply"
    );
    assert!(!source.contains("Lucas Bernard"), "Emma's page names Lucas");
    emma.assert_not_reloaded().await;
    emma.screenshot("5-other-patient-sees-nothing").await;

    // 6. The patient logs out: nothing of the conversation stays in her browser. (While logged
    //    in, her session is in sessionStorage; the outbox wipe with pending messages in it is
    //    tested in tests/security.rs.)
    let before = patient
        .execute("return sessionStorage.length;", vec![])
        .await;
    assert_ne!(
        before, 0,
        "the session is in sessionStorage while logged in"
    );
    patient.click_testid("menu-toggle").await;
    patient.click_testid("logout").await;
    patient.wait_testid("login-email").await;
    let left = patient
        .execute(
            "const keys = [];
             for (let i = 0; i < localStorage.length; i++) keys.push(localStorage.key(i));
             const all = keys.map(k => k + '=' + localStorage.getItem(k)).join('\\n');
             return {
               session: sessionStorage.length,
               colloque_keys: keys.filter(k => k.startsWith('colloque.') && k !== 'colloque.lang'),
               mentions_message: all.includes('ordonnance'),
             };",
            vec![],
        )
        .await;
    assert_eq!(left["session"], 0, "sessionStorage is empty after logout");
    assert_eq!(
        left["colloque_keys"],
        serde_json::json!([]),
        "no health data in localStorage"
    );
    assert_eq!(
        left["mentions_message"], false,
        "no message text in localStorage"
    );
    patient.screenshot("6-patient-logged-out").await;

    for browser in [patient, doctor, emma] {
        browser.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_links_load_the_app_and_unknown_paths_show_the_not_found_page() {
    let e2e = E2e::start("deep-links").await;
    let doctor = e2e.browser(1280, 900).await;
    doctor.login(DOCTOR).await;
    // The page's resource timing below must see what the server sent: the service worker
    // (static/sw.js) would answer the wasm itself, decoded, from its fetch or its cache.
    doctor.cdp("Network.enable", serde_json::json!({})).await;
    doctor
        .cdp(
            "Network.setBypassServiceWorker",
            serde_json::json!({"bypass": true}),
        )
        .await;

    // A deep link typed into the address bar is served index.html by the server's fallback,
    // then routed by the app.
    doctor.goto("/medecin/patients").await;
    doctor
        .wait_for_element_containing("[data-testid='patient-card']", "Hugo Moreau")
        .await;
    // The page carries a static login form for its first paint; with a saved session it was
    // hidden from the start (static/shell.js), and the app removed it once it had rendered.
    let first_screen = doctor
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/medecin/patients').then(r => r.text()).then(html => done({
               static_form: html.includes('id=\"shell-email\"'),
               signed_in: document.documentElement.classList.contains('signed-in'),
               shell_left: !!document.getElementById('shell'),
             }));",
        )
        .await;
    assert_eq!(first_screen["static_form"], true, "{first_screen}");
    assert_eq!(first_screen["signed_in"], true, "{first_screen}");
    assert_eq!(first_screen["shell_left"], false, "{first_screen}");

    // The server sent the wasm compressed (the copy `cargo xtask build` wrote next to it).
    let sizes = doctor
        .execute(
            "const e = performance.getEntriesByType('resource')\
               .find(r => r.name.endsWith('.wasm'));\
             return e ? [e.encodedBodySize, e.decodedBodySize] : null;",
            vec![],
        )
        .await;
    let (encoded, decoded) = (sizes[0].as_f64().unwrap(), sizes[1].as_f64().unwrap());
    assert!(
        encoded > 0.0 && encoded < decoded / 2.0,
        "the wasm came {encoded} bytes for {decoded}: not compressed"
    );

    doctor.goto("/cette/page/n-existe/pas").await;
    doctor.wait_testid("not-found").await;
    doctor.screenshot("not-found").await;
    doctor.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctor_on_a_phone_goes_from_the_inbox_to_a_conversation_and_back() {
    let e2e = E2e::start("doctor-phone").await;
    let doctor = e2e.browser(360, 740).await;
    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/messages").await;

    // On a phone the inbox is the list alone, under a one-row header.
    let item = doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Emma Petit")
        .await;
    assert!(
        doctor
            .is_displayed("[data-testid='conversation-list']")
            .await
    );
    assert!(
        !doctor.is_displayed(".pane").await,
        "no empty pane beside the list"
    );
    assert!(
        !doctor.is_displayed("#app-nav").await,
        "the menu starts folded"
    );
    doctor.mark_page().await;
    doctor.screenshot("1-inbox-list").await;

    // The conversation takes the whole screen, with a way back.
    item.click().await.expect("open Emma's conversation");
    doctor
        .wait_for_element_containing("[data-testid='message-body']", "prise de sang")
        .await;
    assert!(
        !doctor
            .is_displayed("[data-testid='conversation-list']")
            .await,
        "the list gives way to the conversation"
    );
    assert!(doctor.is_displayed(".back-link").await);
    let reply = "Vos résultats sont normaux, bonne journée.";
    doctor.write(reply).await;
    doctor.wait_message("sent", reply).await;
    doctor.screenshot("2-conversation-replied").await;

    doctor.click_css(".back-link").await;
    doctor.wait_testid("conversation-list").await;
    doctor
        .wait_until(|| async {
            doctor
                .is_displayed("[data-testid='conversation-list']")
                .await
                .then_some(())
        })
        .await;
    assert!(!doctor.is_displayed(".pane").await);
    doctor.assert_not_reloaded().await;
    doctor.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_in_plain_words_and_leaves_no_session() {
    let e2e = E2e::start("login").await;
    let browser = e2e.browser(390, 844).await;
    browser.goto("/login").await;
    browser
        .wait_testid("login-email")
        .await
        .send_keys(PATIENT)
        .await
        .expect("type the email");
    browser
        .wait_testid("login-password")
        .await
        .send_keys("not-the-password")
        .await
        .expect("type the password");
    // The app's form, not the page's static copy of it, which the app removed.
    let forms = browser
        .execute(
            "return [document.querySelectorAll('form').length, !!document.getElementById('shell')]",
            vec![],
        )
        .await;
    assert_eq!(forms, serde_json::json!([1, false]));
    browser.click_testid("login-submit").await;
    let error = browser.wait_testid("error-view").await;
    let text = error.text().await.expect("error text");
    assert!(!text.trim().is_empty(), "the refusal is explained");
    let stored = browser
        .execute("return window.sessionStorage.length", vec![])
        .await;
    assert_eq!(
        stored.as_u64(),
        Some(0),
        "nothing is stored after a failed login"
    );
    browser.screenshot("login-refused").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_markup_in_a_message_stays_inert_under_the_servers_strict_csp() {
    let e2e = E2e::start("hostile").await;
    let patient = e2e.browser(390, 844).await;
    let doctor = e2e.browser(1280, 900).await;

    // Lucas writes to Dr Durand (their existing conversation) a message full of markup.
    patient.login(PATIENT).await;
    patient
        .open_conversation_from_appointment("Paul Durand")
        .await;
    let hostile = "<img src=x onerror=\"window.__pwned='img'\"><script>window.__pwned='script'</script><b>gras</b>";
    patient.write(hostile).await;
    patient.wait_message("sent", "<script>").await;

    // Dr Durand reads it: the text is shown as typed, nothing in it became an element or ran.
    doctor.login("dr.durand@colloque.test").await;
    doctor.goto("/medecin/messages").await;
    doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Lucas Bernard")
        .await
        .click()
        .await
        .expect("open the conversation");
    let body = doctor
        .wait_for_element_containing("[data-testid='message-body']", "<script>")
        .await;
    assert_eq!(body.text().await.expect("text"), hostile);
    let inert = doctor
        .execute(
            "const list = document.querySelector(\"[data-testid='message-list']\");
             return {
               pwned: window.__pwned || null,
               elements: list.querySelectorAll('img, script, b').length,
             };",
            vec![],
        )
        .await;
    assert_eq!(
        inert["pwned"],
        serde_json::Value::Null,
        "markup in a message ran"
    );
    assert_eq!(inert["elements"], 0, "markup in a message became elements");

    // The page runs under the server's CSP, which allows no inline script or style, and the app
    // is still styled, its components too (one linked style sheet, no <style> element).
    let page = doctor
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/medecin/messages').then(r => done({
               csp: r.headers.get('content-security-policy'),
               styles: document.querySelectorAll('style').length,
               inbox: getComputedStyle(document.querySelector('.inbox-list')).borderTopStyle,
               header: getComputedStyle(document.querySelector('.app-header')).borderBottomStyle,
             }));",
        )
        .await;
    let csp = page["csp"]
        .as_str()
        .expect("a CSP header on the app's page");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page["styles"], 0, "no <style> element is needed");
    assert_eq!(page["inbox"], "solid", "a component's styles apply");
    assert_eq!(page["header"], "solid", "the app's styles apply");
    doctor.screenshot("hostile-markup-inert").await;

    patient.close().await;
    doctor.close().await;
}

/// Issue 12, the care workflow: a doctor who takes no new requests is known before typing; a
/// doctor closes an exchange with a reason, and the patient's open tab shows the system line and
/// the closed composer at once; reopening brings the composer back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctor_decides_who_writes_closes_with_a_reason_and_the_patient_sees_it_live() {
    let e2e = E2e::start("care-workflow").await;
    let doctor = e2e.browser(1280, 900).await;
    let lucas = e2e.browser(360, 740).await;
    let emma = e2e.browser(360, 740).await;

    // 1. Dr Martin takes no new request by message.
    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/reglages").await;
    doctor.click_testid("intake-off").await;
    doctor.click_testid("intake-save").await;
    doctor
        .wait_for_element_containing("[data-testid='intake-form']", "Enregistré")
        .await;
    doctor.screenshot("1-doctor-intake-off").await;

    // 2. Lucas, who has no conversation with her, learns it before typing anything.
    lucas.login(PATIENT).await;
    lucas.goto("/patient/rendez-vous").await;
    let card = lucas
        .wait_for_element_containing("[data-testid='appointment-card']", "Claire Martin")
        .await;
    child_testid(&card, "messaging-button")
        .await
        .expect("a messaging button")
        .click()
        .await
        .expect("press it");
    lucas
        .wait_for_element_containing(
            "[data-testid='intake-notice']",
            "ne reçoit pas de nouvelle demande par messagerie",
        )
        .await;
    assert!(
        lucas
            .find_css("[data-testid='composer-input']")
            .await
            .is_none()
    );
    assert!(
        lucas
            .find_css("[data-testid='topic-picker']")
            .await
            .is_none()
    );
    lucas.screenshot("2-patient-refused-before-typing").await;

    // 3. Emma keeps her open exchange with Dr Martin on her phone: it stays answerable.
    emma.login(OTHER_PATIENT).await;
    emma.goto("/patient/messages").await;
    emma.wait_for_element_containing("[data-testid='conversation-item']", "Claire Martin")
        .await
        .click()
        .await
        .expect("open the conversation");
    emma.wait_testid("composer-input").await;
    emma.mark_page().await;

    // 4. In the doctor's queue, Emma's exchange is in progress, with her waiting time.
    doctor.goto("/medecin/messages").await;
    doctor.click_testid("stage-in_progress").await;
    let item = doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Emma Petit")
        .await;
    let waiting = child_testid(&item, "conversation-waiting")
        .await
        .expect("Emma waits for an answer");
    assert!(waiting.text().await.unwrap().starts_with("attend depuis"));
    doctor.screenshot("4-doctor-queue").await;
    item.click().await.expect("open Emma's exchange");
    doctor.click_testid("close-conversation").await;
    doctor
        .wait_testid("close-reason")
        .await
        .send_keys("Complément de fer prescrit pour trois mois")
        .await
        .expect("type the reason");
    doctor.click_testid("close-confirm").await;
    doctor.wait_testid("reopen").await;
    doctor.screenshot("4b-doctor-closed").await;

    // 5. Emma's open tab shows the closing line and the closed composer, without a reload.
    emma.wait_for_element_containing(
        "[data-testid='system-line']",
        "Échange clos par le Dr Claire Martin : Complément de fer prescrit pour trois mois.",
    )
    .await;
    emma.wait_testid("closed-notice").await;
    assert!(
        emma.find_css("[data-testid='composer-input']")
            .await
            .is_none()
    );
    emma.assert_not_reloaded().await;
    emma.screenshot("5-patient-sees-closing").await;
    // A new request goes through the doctor's setting, which still takes none.
    emma.click_css("[data-testid='closed-notice'] [data-testid='messaging-button']")
        .await;
    emma.wait_testid("intake-notice").await;

    // 6. The doctor reopens: the composer comes back on Emma's phone.
    doctor.click_testid("reopen").await;
    emma.wait_for_element_containing("[data-testid='system-line']", "Échange rouvert")
        .await;
    emma.wait_testid("composer-input").await;
    emma.screenshot("6-patient-after-reopen").await;

    for browser in [doctor, lucas, emma] {
        browser.close().await;
    }
}
