//! What the notifier's tests share (e-mails in `notifications.rs`, Web Push in `push.rs`): a
//! server whose notifier runs on a clock the test moves, Emma and Dr Martin ready to be told,
//! the notifier's passes, and waiting for what was sent.

use crate::helpers::*;
use colloque_protocol::ConversationSummary;
use colloque_server::notify::{Clock, NotifyConfig, Rules};
use colloque_testbed::SmtpSink;
use serde_json::json;
use std::time::Duration;

/// A server whose e-mails go to `smtp` (or to `.eml` files without it), with a notifier
/// making a pass every 50 ms, a 2-minute delay, a clock the test moves, and pushes accepted to
/// a push service on loopback (`push.rs`).
pub(crate) async fn spawn_notifying_app(smtp: Option<&SmtpSink>, clock: &Clock) -> TestApp {
    let url = smtp.map(SmtpSink::url);
    let clock = clock.clone();
    spawn_app_with(move |config| {
        config.metrics_bind = Some(([127, 0, 0, 1], 0).into());
        config.notify = NotifyConfig {
            smtp_url: url.map(secrecy::SecretString::from),
            public_url: Some("https://colloque.example.org".into()),
            rules: Rules {
                delay_ms: 2 * 60 * 1000,
                ..Rules::default()
            },
            every: Duration::from_millis(50),
            clock,
            push_allow_http_loopback: true,
            ..NotifyConfig::default()
        };
    })
    .await
}

/// A notifying server ([`spawn_notifying_app`]: e-mails to `smtp`, or to `.eml` files without
/// it) on a new clock, and Emma (her quiet hours off), Dr Martin and their conversation
/// ([`TestApp::emma_and_martin`]).
pub(crate) async fn spawn_emma_and_martin(
    smtp: Option<&SmtpSink>,
) -> (TestApp, Clock, Session, Session, ConversationSummary) {
    let clock = Clock::default();
    let app = spawn_notifying_app(smtp, &clock).await;
    let (emma, martin, conversation) = app.emma_and_martin().await;
    (app, clock, emma, martin, conversation)
}

/// Waits until `sent` (what was received so far) holds `count` items, at most 20 s, and
/// returns them; `what` names them in the failure.
pub(crate) async fn wait_for_count<T>(
    count: usize,
    what: &str,
    sent: impl Fn() -> Vec<T>,
) -> Vec<T> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let items = sent();
        if items.len() >= count {
            return items;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} {what} received, not {count}",
            items.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl TestApp {
    /// The value of a counter of the metrics listener, by its series (`name{labels}`); 0 if it
    /// is not there yet.
    pub(crate) async fn counter(&self, series: &str) -> u64 {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_port.unwrap());
        let text = self
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map_or(0, |count| count.trim().parse().unwrap())
    }

    /// The notifier's completed passes.
    pub(crate) async fn notify_passes(&self) -> u64 {
        self.counter("colloque_notify_passes_total").await
    }

    /// Waits until the notifier has made a whole pass after this call began.
    pub(crate) async fn whole_pass(&self) {
        let start = self.notify_passes().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.notify_passes().await < start + 2 {
            assert!(std::time::Instant::now() < deadline, "the notifier stopped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Emma (her quiet hours off, so that e-mails may go at any hour), Dr Martin, and their
    /// conversation.
    pub(crate) async fn emma_and_martin(&self) -> (Session, Session, ConversationSummary) {
        let emma = self.login(EMMA).await;
        let martin = self.login(MARTIN).await;
        self.no_quiet_hours(&emma).await;
        let conversation = self.only_conversation(&emma).await;
        (emma, martin, conversation)
    }

    /// Turns quiet hours off for `session` (the tests must not depend on the hour they run).
    pub(crate) async fn no_quiet_hours(&self, session: &Session) {
        let response = self
            .put(
                "/api/me/notifications",
                &session.token,
                &json!({"email": true, "push": true, "quiet_hours": null}),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
}
