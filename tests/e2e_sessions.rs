//! End to end, issue 10's browser proofs: one person logged in on two browsers (a phone and a
//! laptop) signs the phone out from the laptop's security page, then changes the password
//! there, and each time the phone is sent back to the login screen; and a session outlives
//! its short access tokens through the refresh cookie, with the app on another origin than the
//! API (a CDN), so that the cookie's CORS path is the real one.
//!
//! Waits are bounded polls for a DOM condition, never fixed sleeps, and no test asserts a
//! wall-clock duration.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use support::{Browser, DEMO_PASSWORD, E2e};

const PATIENT: &str = "lucas.bernard@colloque.test";
const NEW_PASSWORD: &str = "un tout nouveau mot de passe";

/// How many device cards the security page shows.
async fn device_count(browser: &Browser) -> usize {
    browser.texts("[data-testid='device']").await.len()
}

/// Waits until the browser is on the login screen because its session ended, and checks that
/// nothing of the session is left in the tab.
async fn assert_sent_back_to_login(browser: &Browser) {
    let notice = browser.wait_testid("session-ended").await;
    assert_eq!(
        notice.attr("data-reason").await.unwrap().as_deref(),
        Some("Expired")
    );
    browser.wait_testid("login-email").await;
    let left = browser
        .execute("return sessionStorage.length;", vec![])
        .await;
    assert_eq!(
        left,
        serde_json::json!(0),
        "the tab keeps nothing of the session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_from_the_other_browser_and_a_password_change_send_it_back_to_login() {
    let e2e = E2e::start("sessions").await;
    let phone = e2e.browser(360, 740).await;
    let laptop = e2e.browser(1280, 900).await;
    phone.login(PATIENT).await;
    phone.mark_page().await;
    laptop.login(PATIENT).await;

    // 1. The laptop opens the security page from the menu: two devices, this one marked.
    laptop
        .click_css("#app-nav a[href='/patient/securite']")
        .await;
    laptop
        .wait_until(|| async { (device_count(&laptop).await == 2).then_some(()) })
        .await;
    let this = laptop
        .wait_for_element_containing(
            "[data-testid='device'][data-current='true']",
            "Cet appareil",
        )
        .await;
    assert!(
        this.text().await.unwrap().contains("127.0.0.1"),
        "its address"
    );
    laptop.screenshot("1-laptop-two-devices").await;

    // 2. It signs the phone out. The phone, which did nothing, is sent back to the login
    //    screen (its socket was closed, its token and refresh cookie refused).
    laptop
        .click_css("[data-testid='device'][data-current='false'] [data-testid='sign-out-device']")
        .await;
    laptop
        .wait_until(|| async { (device_count(&laptop).await == 1).then_some(()) })
        .await;
    laptop.screenshot("2-laptop-phone-signed-out").await;
    assert_sent_back_to_login(&phone).await;
    phone.assert_not_reloaded().await;
    phone.screenshot("2b-phone-back-at-login").await;

    // 3. The phone logs in again, and finds the same page behind its menu, laid out for its
    //    360 px; then the laptop changes the password: the phone is signed out again, the
    //    laptop stays.
    phone.login(PATIENT).await;
    phone.click_testid("menu-toggle").await;
    phone
        .click_css("#app-nav a[href='/patient/securite']")
        .await;
    phone
        .wait_until(|| async { (device_count(&phone).await == 2).then_some(()) })
        .await;
    let overflow = phone
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await;
    assert_eq!(
        overflow,
        serde_json::json!(0),
        "nothing wider than the phone"
    );
    phone.screenshot("3a-phone-security-page").await;
    laptop.refresh().await;
    laptop
        .wait_until(|| async { (device_count(&laptop).await == 2).then_some(()) })
        .await;
    laptop.mark_page().await;
    laptop
        .wait_testid("current-password")
        .await
        .send_keys(DEMO_PASSWORD)
        .await
        .expect("type the current password");
    laptop
        .wait_testid("new-password")
        .await
        .send_keys(NEW_PASSWORD)
        .await
        .expect("type the new password");
    laptop.click_testid("change-password").await;
    laptop.wait_testid("password-changed").await;
    assert_sent_back_to_login(&phone).await;
    laptop
        .wait_until(|| async { (device_count(&laptop).await == 1).then_some(()) })
        .await;
    laptop.screenshot("3-laptop-password-changed").await;
    phone.screenshot("3b-phone-back-at-login").await;

    // The old password no longer opens the account; the new one does.
    phone.goto("/login").await;
    phone
        .wait_testid("login-email")
        .await
        .send_keys(PATIENT)
        .await
        .expect("type the email");
    phone
        .wait_testid("login-password")
        .await
        .send_keys(DEMO_PASSWORD)
        .await
        .expect("type the old password");
    phone.click_testid("login-submit").await;
    phone
        .wait_for_element_containing("[data-testid='error-view']", "mot de passe incorrect")
        .await;
    phone.login_with(PATIENT, NEW_PASSWORD).await;
    laptop.assert_not_reloaded().await;
    laptop.wait_testid("logout").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_outlives_its_short_tokens_through_the_refresh_cookie_across_origins() {
    // Four-second access tokens, renewed at two thirds of their life while the user is active.
    let (e2e, _api) = E2e::start_cdn_with("refresh", |config| config.token_ttl_secs = 4).await;
    let patient = e2e.browser(390, 844).await;
    patient.login(PATIENT).await;
    let cookies = patient.execute("return document.cookie;", vec![]).await;
    assert!(
        !cookies
            .as_str()
            .unwrap_or_default()
            .contains("colloque_refresh"),
        "the refresh credential is out of the page's reach (HttpOnly): {cookies}"
    );
    patient
        .open_conversation_from_appointment("Claire Martin")
        .await;
    let before = "Avant le renouvellement.";
    patient.write(before).await;
    patient.wait_message("sent", before).await;
    patient.mark_page().await;

    // While she keeps writing, the access token is renewed before it runs out, three times
    // over, from the refresh cookie alone: the app runs on the CDN's origin, the cookie belongs
    // to the API's. Each message goes with the token of the moment.
    let token = || async {
        let token = patient
            .execute(
                "const s = sessionStorage.getItem('colloque.session'); \
                 return s ? JSON.parse(s).token : null;",
                vec![],
            )
            .await;
        token.as_str().map(str::to_owned)
    };
    let mut seen = vec![token().await.expect("a saved session")];
    for round in 1..=3 {
        let text = format!("Message {round}, un jeton plus tard.");
        patient.write(&text).await;
        patient.wait_message("sent", &text).await;
        let renewed = patient
            .wait_until(|| async { token().await.filter(|t| !seen.contains(t)) })
            .await;
        seen.push(renewed);
    }
    let after = "Après trois renouvellements.";
    patient.write(after).await;
    patient.wait_message("sent", after).await;
    patient.assert_not_reloaded().await;
    assert!(
        patient
            .find_css("[data-testid='session-ended']")
            .await
            .is_none()
    );
    patient.screenshot("1-still-signed-in-after-renewals").await;
}
