//! Web Push (issue 13) against a push service on loopback (`colloque_testbed::PushService`)
//! that checks each push's VAPID token and decrypts its body with the subscription's keys, as
//! a browser would: the delay, one per conversation and hour, quiet hours and the `push`
//! choice, content-free payloads, a subscription the push service forgot (410) deleted, the
//! subscriptions' checks, cap and owners. The notifier's clock is moved by the test.

use crate::helpers::*;
use crate::notifying::*;
use colloque_protocol::{
    ConversationSummary, MAX_PUSH_SUBSCRIPTIONS, NOTICE_FR, PushKey, PushNotice, PushSubscription,
    Timestamp,
};
use colloque_server::notify::Clock;
use colloque_testbed::{BrowserSubscription, PushService, ReceivedPush};
use serde_json::json;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

impl TestApp {
    /// Subscribes `browser` for `session`.
    async fn subscribe(
        &self,
        session: &Session,
        browser: &BrowserSubscription,
    ) -> reqwest::Response {
        let body = json!({
            "endpoint": browser.endpoint,
            "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
        });
        self.post("/api/me/push-subscriptions", &session.token, &body)
            .await
    }

    /// The subscriptions of `session`.
    async fn push_subscriptions(&self, session: &Session) -> Vec<PushSubscription> {
        let response = self.get("/api/me/push-subscriptions", &session.token).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The pushes counted with `outcome`.
    async fn pushes(&self, outcome: &str) -> u64 {
        self.counter(&format!("colloque_pushes_total{{outcome=\"{outcome}\"}}"))
            .await
    }

    /// Subscribes a new browser of `service` for `session`, and returns it.
    async fn subscribed(&self, service: &PushService, session: &Session) -> BrowserSubscription {
        let browser = service.subscribe();
        assert_eq!(self.subscribe(session, &browser).await.status(), 201);
        browser
    }
}

/// Waits until `browser` has received `count` pushes (at most 20 s), and returns them.
async fn wait_for(
    service: &PushService,
    browser: &BrowserSubscription,
    count: usize,
) -> Vec<ReceivedPush> {
    wait_for_count(count, "pushes", || service.received_by(browser)).await
}

/// The push was signed by the server's VAPID key for this push service, and decrypts to the
/// notice and a link, and nothing of the conversation.
fn assert_content_free(
    push: &ReceivedPush,
    key: &PushKey,
    service: &PushService,
    conversation: &ConversationSummary,
    text: &str,
) {
    let vapid = push.vapid.as_ref().expect("a valid VAPID token");
    assert_eq!(vapid.key, key.public_key, "signed by the server's key");
    assert_eq!(vapid.audience, service.origin());
    assert_eq!(push.header("content-encoding"), Some("aes128gcm"));
    assert!(
        push.header("ttl")
            .is_some_and(|ttl| ttl.parse::<u64>().unwrap() > 0)
    );
    assert_eq!(push.header("urgency"), Some("normal"));
    let payload = push.payload.as_ref().expect("the body decrypts");
    let notice: PushNotice = serde_json::from_str(payload).unwrap();
    assert_eq!(
        notice,
        PushNotice {
            title: "Colloque".into(),
            body: NOTICE_FR.into(),
            url: "https://colloque.example.org/".into(),
        }
    );
    for secret in [
        text,
        conversation.subject.as_str(),
        conversation.doctor.display_name.as_str(),
        conversation.patient.display_name.as_str(),
        "Martin",
        "Emma",
        "Petit",
    ] {
        assert!(
            !payload.contains(secret),
            "the push carries {secret:?}: {payload}"
        );
    }
    let headers = format!("{:?}", push.headers);
    assert!(
        !headers.contains(text) && !headers.contains("Emma"),
        "{headers}"
    );
}

#[tokio::test]
async fn an_unread_message_gives_one_encrypted_content_free_push_after_the_delay() {
    let service = PushService::start();
    let (app, clock, emma, martin, conversation) = spawn_emma_and_martin(None).await;
    let browser = app.subscribed(&service, &emma).await;
    let key: PushKey = app
        .client
        .get(app.url("/api/push/key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = "Votre hémoglobine est basse : rappelez le cabinet.";

    app.send_ok(&martin, conversation.id, text).await;
    app.whole_pass().await;
    assert!(
        service.received_by(&browser).is_empty(),
        "not before the delay"
    );

    clock.advance(2 * MINUTE);
    let pushes = wait_for(&service, &browser, 1).await;
    assert_content_free(&pushes[0], &key, &service, &conversation, text);
    assert_eq!(pushes[0].status, 201);

    // A second message within the hour: no second push; an hour after the first: one.
    let second = "Et prenez rendez-vous avec le Dr Martin.";
    app.send_ok(&martin, conversation.id, second).await;
    clock.advance(10 * MINUTE);
    app.whole_pass().await;
    assert_eq!(service.received_by(&browser).len(), 1, "one push per hour");
    clock.advance(HOUR);
    let pushes = wait_for(&service, &browser, 2).await;
    assert_content_free(&pushes[1], &key, &service, &conversation, second);
    app.whole_pass().await;
    assert_eq!(service.received_by(&browser).len(), 2, "once, not twice");
    assert_eq!(app.pushes("sent").await, 2);
}

#[tokio::test]
async fn no_push_goes_when_push_is_off_nor_during_quiet_hours() {
    let service = PushService::start();
    let (app, clock, emma, martin, conversation) = spawn_emma_and_martin(None).await;
    let browser = app.subscribed(&service, &emma).await;
    let choose = |settings: serde_json::Value| {
        let (app, emma) = (&app, &emma);
        async move {
            let response = app
                .put("/api/me/notifications", &emma.token, &settings)
                .await;
            assert_eq!(response.status(), 200);
        }
    };

    choose(json!({"email": true, "push": false, "quiet_hours": null})).await;
    app.send_ok(&martin, conversation.id, "Rappelez-moi.").await;
    clock.advance(10 * MINUTE);
    app.whole_pass().await;
    assert!(service.received().is_empty(), "push off");

    // Quiet hours around the practice's present hour (the notifier's clock moved minutes only).
    let now =
        jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
    let hour = |offset: i64| format!("{:02}:00", (i64::from(now.hour()) + offset).rem_euclid(24));
    choose(json!({"email": true, "push": true, "quiet_hours": {"from": hour(-1), "to": hour(2)}}))
        .await;
    app.whole_pass().await;
    assert!(service.received().is_empty(), "quiet hours");

    // Once they are off, what was due goes.
    app.no_quiet_hours(&emma).await;
    wait_for(&service, &browser, 1).await;
}

#[tokio::test]
async fn a_subscription_its_push_service_forgot_is_deleted() {
    let service = PushService::start();
    let (app, clock, emma, martin, conversation) = spawn_emma_and_martin(None).await;
    let forgotten = app.subscribed(&service, &emma).await;
    let kept = app.subscribed(&service, &emma).await;
    assert_eq!(app.push_subscriptions(&emma).await.len(), 2);
    service.answer(&forgotten, 410);

    app.send_ok(&martin, conversation.id, "Bien reçu.").await;
    clock.advance(5 * MINUTE);
    wait_for(&service, &forgotten, 1).await;
    wait_for(&service, &kept, 1).await;
    app.whole_pass().await;

    let left = app.push_subscriptions(&emma).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!((app.pushes("gone").await, app.pushes("sent").await), (1, 1));
    // The next push goes to the browser left only.
    app.send_ok(&martin, conversation.id, "Autre chose.").await;
    clock.advance(2 * HOUR);
    wait_for(&service, &kept, 2).await;
    assert_eq!(service.received_by(&forgotten).len(), 1);
}

#[tokio::test]
async fn only_its_owner_lists_and_deletes_a_subscription() {
    let service = PushService::start();
    let app = spawn_notifying_app(None, &Clock::default()).await;
    let emma = app.login(EMMA).await;
    let hugo = app.login(HUGO).await;
    let browser = service.subscribe();
    let stored: PushSubscription = app.subscribe(&emma, &browser).await.json().await.unwrap();
    assert_eq!(
        stored.service,
        service.origin(),
        "the push service, not the endpoint"
    );
    let path = format!("/api/me/push-subscriptions/{}", stored.id);

    assert!(app.push_subscriptions(&hugo).await.is_empty());
    let refused = app.delete(&path, &hugo.token).await;
    assert_eq!(refused.status(), 404);
    assert_eq!(error_code(&refused.json().await.unwrap()), "not_found");
    assert_eq!(app.push_subscriptions(&emma).await, vec![stored.clone()]);

    assert_eq!(app.delete(&path, &emma.token).await.status(), 204);
    assert!(app.push_subscriptions(&emma).await.is_empty());
    assert_eq!(app.delete(&path, &emma.token).await.status(), 404);
    let actions: Vec<String> = app
        .audit_of(EMMA)
        .await
        .into_iter()
        .filter(|record| record.action.starts_with("push_"))
        .map(|record| format!("{} {}", record.action, record.detail.unwrap_or_default()))
        .collect();
    assert_eq!(
        actions,
        [
            format!(
                "push_subscribed subscription {}, {}",
                stored.id,
                service.origin()
            ),
            format!("push_unsubscribed subscription {}", stored.id),
        ]
    );
}

#[tokio::test]
async fn a_subscription_is_checked_and_capped() {
    let service = PushService::start();
    let app = spawn_notifying_app(None, &Clock::default()).await;
    let emma = app.login(EMMA).await;
    let browser = service.subscribe();
    let with = |endpoint: &str, p256dh: &str, auth: &str| json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}});
    let short = &browser.auth[..browser.auth.len() - 2];
    for body in [
        with("http://push.example.net/x", &browser.p256dh, &browser.auth),
        with("https://push.example.net/x", &browser.p256dh, short),
        with("https://push.example.net/x", &browser.auth, &browser.auth),
    ] {
        let response = app
            .post("/api/me/push-subscriptions", &emma.token, &body)
            .await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(error_code(&response.json().await.unwrap()), "invalid_input");
    }
    let keyless = json!({"endpoint": "https://push.example.net/x"});
    let response = app
        .post("/api/me/push-subscriptions", &emma.token, &keyless)
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(&response.json().await.unwrap()), "invalid_json");
    assert!(
        app.push_subscriptions(&emma).await.is_empty(),
        "nothing stored"
    );

    let browsers: Vec<BrowserSubscription> = (0..MAX_PUSH_SUBSCRIPTIONS)
        .map(|_| service.subscribe())
        .collect();
    for browser in &browsers {
        assert_eq!(app.subscribe(&emma, browser).await.status(), 201);
    }
    let refused = app.subscribe(&emma, &browser).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(error_code(&refused.json().await.unwrap()), "limit_reached");
    // Subscribing a browser again renews it, under the same id: not one more.
    let renewed = app.subscribe(&emma, &browsers[0]).await;
    assert_eq!(renewed.status(), 201);
    let renewed: PushSubscription = renewed.json().await.unwrap();
    let listed = app.push_subscriptions(&emma).await;
    assert_eq!(listed.len(), MAX_PUSH_SUBSCRIPTIONS);
    assert_eq!(renewed.id, listed[0].id, "the first browser's id");
}

/// A server whose push service refused Emma's one browser (503) the push of Dr Martin's
/// message, at the pass that has just ended.
struct Refused {
    service: PushService,
    app: TestApp,
    clock: Clock,
    emma: Session,
    martin: Session,
    conversation: ConversationSummary,
    browser: BrowserSubscription,
    /// Dr Martin's message.
    sent: colloque_protocol::Message,
}

impl Refused {
    async fn start() -> Refused {
        let service = PushService::start();
        let (app, clock, emma, martin, conversation) = spawn_emma_and_martin(None).await;
        let browser = app.subscribed(&service, &emma).await;
        service.answer(&browser, 503);
        let sent = app.send_ok(&martin, conversation.id, "Rappelez-moi.").await;
        clock.advance(5 * MINUTE);
        let refused = wait_for(&service, &browser, 1).await;
        assert_eq!(refused[0].status, 503);
        app.whole_pass().await;
        Refused {
            service,
            app,
            clock,
            emma,
            martin,
            conversation,
            browser,
            sent,
        }
    }

    /// Emma's subscriptions as the store holds them.
    async fn stored(&self) -> Vec<colloque_server::store::StoredPushSubscription> {
        self.app
            .db()
            .await
            .push_subscriptions(self.emma.id)
            .await
            .unwrap()
    }

    /// Since when her first subscription fails.
    async fn failing_since(&self) -> Timestamp {
        self.stored().await[0].failing_since.expect("failing")
    }
}

#[tokio::test]
async fn a_push_the_push_service_refused_is_tried_again_after_a_wait_not_at_every_pass() {
    let r = Refused::start().await;
    assert_eq!(r.app.pushes("failed").await, 1);
    assert_eq!(r.app.push_subscriptions(&r.emma).await.len(), 1, "kept");
    let since = r.failing_since().await;
    let retry_at = r.stored().await[0].retry_at;
    assert_eq!(retry_at, Some(Timestamp(since.0 + 60_000)), "a minute");

    // The push service takes pushes again, but the subscription waits for its minute: the
    // passes meanwhile send nothing.
    r.service.answer(&r.browser, 201);
    r.app.whole_pass().await;
    r.app.whole_pass().await;
    let received = r.service.received_by(&r.browser).len();
    assert_eq!(received, 1, "not tried at every pass");

    // The claim was given back: once the minute is over the push goes, without waiting the
    // hour, and the subscription is not failing any more.
    r.clock.advance(MINUTE);
    let pushes = wait_for(&r.service, &r.browser, 2).await;
    assert_eq!(pushes.last().unwrap().status, 201);
    r.app.whole_pass().await;
    let received = r.service.received_by(&r.browser).len();
    assert_eq!(received, 2, "then no more");
    let recovered = &r.stored().await[0];
    assert_eq!((recovered.failing_since, recovered.retry_at), (None, None));
}

#[tokio::test]
async fn a_subscription_failing_for_a_week_waits_longer_between_tries_then_is_deleted() {
    let r = Refused::start().await;
    let since = r.failing_since().await;

    // Refused at every try, tried again within a day each time: one streak, an hour's wait
    // between tries, kept for a week.
    for tries in 2..=10 {
        r.clock.advance(20 * HOUR);
        wait_for(&r.service, &r.browser, tries).await;
        r.app.whole_pass().await;
        if tries == 10 {
            break;
        }
        let failing = &r.stored().await[0];
        assert_eq!(failing.failing_since, Some(since), "try {tries}");
        // (The clock runs on: the refusal came a moment ago.)
        let wait = failing.retry_at.expect("waiting").0 - r.clock.now().0;
        assert!((3_500_000..=3_600_000).contains(&wait), "{wait} ms");
    }

    // The tenth refusal, 180 hours after the first (the ninth, at 160, was within the week):
    // deleted, as a forgotten one.
    assert!(r.app.push_subscriptions(&r.emma).await.is_empty());
    assert_eq!(r.app.pushes("failed").await, 10);
}

#[tokio::test]
async fn a_refusal_long_after_the_last_starts_a_new_streak() {
    let r = Refused::start().await;
    let first = r.failing_since().await;

    // Eight days without a try (nothing made one due: Emma read the message, then a new one
    // came): a blip then is not a week of failing.
    let read = r
        .app
        .post(
            &format!("/api/conversations/{}/read", r.conversation.id),
            &r.emma.token,
            &json!({ "seq": r.sent.seq }),
        )
        .await;
    assert_eq!(read.status(), 200);
    r.clock.advance(8 * DAY);
    r.app.whole_pass().await;
    let received = r.service.received_by(&r.browser).len();
    assert_eq!(received, 1, "nothing was due");
    r.app
        .send_ok(&r.martin, r.conversation.id, "Et maintenant ?")
        .await;
    r.clock.advance(5 * MINUTE);
    wait_for(&r.service, &r.browser, 2).await;
    r.app.whole_pass().await;
    let again = r.failing_since().await;
    assert!(
        again.0 >= first.0 + 8 * 86_400_000,
        "a new streak: {again:?}"
    );
    assert_eq!(r.app.push_subscriptions(&r.emma).await.len(), 1, "kept");
}

#[tokio::test]
async fn a_browser_waiting_after_a_failure_still_gets_the_push_another_lost() {
    let r = Refused::start().await;

    // While the first browser waits its minute, a second one's push service has forgotten it:
    // deleted, and the push stays due for the first.
    let gone = r.app.subscribed(&r.service, &r.emma).await;
    r.service.answer(&gone, 410);
    wait_for(&r.service, &gone, 1).await;
    r.app.whole_pass().await;
    let left = r.app.push_subscriptions(&r.emma).await.len();
    assert_eq!(left, 1, "the forgotten one deleted");

    r.service.answer(&r.browser, 201);
    r.clock.advance(MINUTE);
    let pushes = wait_for(&r.service, &r.browser, 2).await;
    assert_eq!(pushes.last().unwrap().status, 201);
}

#[tokio::test]
async fn one_instance_claims_each_push() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let store = app.db().await;
    let now = colloque_protocol::Timestamp(1_800_000_000_000);
    let seq = colloque_protocol::Seq(3);
    let never = colloque_protocol::Timestamp(0);

    let first = store.claim_push_notice(emma.id, conversation.id, never, seq, now);
    assert!(first.await.unwrap(), "the first claim");
    let second = store.claim_push_notice(emma.id, conversation.id, never, seq, now);
    assert!(
        !second.await.unwrap(),
        "a second instance that read the same row"
    );
    let later = colloque_protocol::Timestamp(now.0 + 3_600_000);
    let next = store.claim_push_notice(emma.id, conversation.id, now, seq, later);
    assert!(
        next.await.unwrap(),
        "the next claim, from what the first wrote"
    );
}

#[tokio::test]
async fn a_doctor_is_pushed_a_patients_unread_message_too() {
    let service = PushService::start();
    let app = spawn_notifying_app(None, &Clock::default()).await;
    let martin = app.login(MARTIN).await;
    app.no_quiet_hours(&martin).await;
    let browser = service.subscribe();

    // The demo's last message is Emma's, hours old and unread by Dr Martin: pushed at once.
    assert_eq!(app.subscribe(&martin, &browser).await.status(), 201);
    let pushes = wait_for(&service, &browser, 1).await;
    let payload = pushes[0].payload.as_ref().expect("the body decrypts");
    let notice: PushNotice = serde_json::from_str(payload).unwrap();
    assert_eq!(notice.body, NOTICE_FR);
    app.whole_pass().await;
    assert_eq!(service.received_by(&browser).len(), 1, "once");
}

#[tokio::test]
async fn an_endpoint_into_the_servers_own_network_is_never_sent_to_and_is_deleted() {
    let service = PushService::start();
    let (app, clock, emma, martin, conversation) = spawn_emma_and_martin(None).await;
    let browser = app.subscribed(&service, &emma).await;
    // Schema-valid https endpoints, accepted when subscribed: where they lead is known when
    // a push goes (a name may resolve elsewhere by then).
    for internal in ["https://127.0.0.1:9/admin", "https://localhost/push/x"] {
        let body = json!({
            "endpoint": internal,
            "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
        });
        let response = app
            .post("/api/me/push-subscriptions", &emma.token, &body)
            .await;
        assert_eq!(response.status(), 201, "{internal}");
    }
    assert_eq!(app.push_subscriptions(&emma).await.len(), 3);

    app.send_ok(&martin, conversation.id, "Bien reçu.").await;
    clock.advance(5 * MINUTE);
    wait_for(&service, &browser, 1).await;
    app.whole_pass().await;

    let left = app.push_subscriptions(&emma).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].service, service.origin());
    assert_eq!((app.pushes("gone").await, app.pushes("sent").await), (2, 1));
}
