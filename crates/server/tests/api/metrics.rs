//! Prometheus metrics on their own listener.

use crate::helpers::*;

#[tokio::test]
async fn metrics_are_served_apart_from_the_public_port_without_ids_or_content() {
    let app = spawn_app_with(|config| config.metrics_bind = Some(([127, 0, 0, 1], 0).into())).await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let _socket = app.socket(&martin).await;
    let conversation = app.only_conversation(&emma).await;
    app.send_ok(&emma, conversation.id, "une question confidentielle")
        .await;
    app.post_login(EMMA, "wrong-password-123").await;

    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    let metrics_url = format!("http://127.0.0.1:{}/metrics", app.metrics_port.unwrap());
    let text = app
        .client
        .get(metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(public.status(), 404, "not on the public port");
    for line in [
        "colloque_messages_stored_total 1",
        "colloque_sockets_open 1",
        "colloque_users_connected 1",
        "colloque_bus_up 1",
        "colloque_logins_total{outcome=\"success\"} 2",
        "colloque_logins_total{outcome=\"failure\"} 1",
        "colloque_send_to_ack_seconds_count 1",
        "colloque_send_to_push_seconds_count 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line:?} missing from:\n{text}"
        );
    }
    assert!(text.contains("colloque_db_pool_connections"));
    assert!(!text.contains("confidentielle") && !text.to_lowercase().contains("emma"));
    // The only labels are fixed words: an outcome, a histogram's bucket, and an e-mail's kind
    // (the notifier may have sent one here, outside the default quiet hours: it depends on the
    // time of day the test runs).
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        if let Some((_, labels)) = line.split_once('{') {
            let labels = labels.split_once('}').unwrap().0;
            for pair in labels.split(',') {
                let (name, value) = pair.split_once('=').unwrap();
                assert!(
                    ["outcome", "le", "kind"].contains(&name),
                    "label {name:?} in {line:?}"
                );
                if name == "kind" {
                    assert!(
                        ["\"new_message\"", "\"unread_answer\"", "\"awaiting_reply\""]
                            .contains(&value),
                        "kind {value} in {line:?}"
                    );
                }
            }
        }
    }
}
