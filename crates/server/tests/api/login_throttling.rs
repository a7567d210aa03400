//! Brute force: failed logins are throttled per account and per address, and the throttled
//! answer does not tell whether the account exists.

use crate::helpers::*;
use colloque_server::{DEMO_PASSWORD, RateLimit};
use serde_json::Value;

#[tokio::test]
async fn five_failures_throttle_an_account_even_for_the_right_password() {
    let app = spawn_app().await;

    for attempt in 0..5 {
        let response = app.post_login(EMMA, "wrong password").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let throttled = app.post_login(EMMA, DEMO_PASSWORD).await;

    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().contains_key("retry-after"));
    assert_eq!(error_code(&throttled.json().await.unwrap()), "rate_limited");
    // Other accounts are not affected.
    assert_eq!(app.post_login(LUCAS, DEMO_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn an_unknown_email_is_throttled_exactly_like_a_known_one() {
    let app = spawn_app().await;
    let mut answers = Vec::new();

    for email in [EMMA, "nobody@colloque.test"] {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(app.post_login(email, "wrong password").await.status());
        }
        let throttled = app.post_login(email, "wrong password").await;
        statuses.push(throttled.status());
        let mut body: Value = throttled.json().await.unwrap();
        // The hint names the wait in seconds, which may differ by one between the two.
        body["message"] = Value::Null;
        answers.push((statuses, body));
    }

    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0.last().unwrap().as_u16(), 429);
}

#[tokio::test]
async fn an_address_is_throttled_after_failures_on_many_accounts() {
    let app = spawn_app_with(|config| {
        config.limits.login_failures_per_address = RateLimit::per_minutes(4, 15);
    })
    .await;

    for email in [EMMA, LUCAS, HUGO, "nobody@colloque.test"] {
        assert_eq!(app.post_login(email, "wrong").await.status(), 401);
    }
    let from_same_address = app.post_login(MARTIN, DEMO_PASSWORD).await;

    assert_eq!(from_same_address.status(), 429);
    assert_eq!(
        error_code(&from_same_address.json().await.unwrap()),
        "rate_limited"
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_accounts_failures() {
    let app = spawn_app().await;

    for _ in 0..4 {
        app.post_login(EMMA, "wrong").await;
    }
    assert_eq!(app.post_login(EMMA, DEMO_PASSWORD).await.status(), 200);
    for _ in 0..4 {
        assert_eq!(app.post_login(EMMA, "wrong").await.status(), 401);
    }

    assert_eq!(app.post_login(EMMA, DEMO_PASSWORD).await.status(), 200);
}
