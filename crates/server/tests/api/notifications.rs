//! Notification e-mails (issue 13) against a real SMTP server on loopback (aiosmtpd): the
//! delay, one per conversation and hour, the reminders, quiet hours, content-free e-mails, the
//! one-click unsubscribe, the `.eml` files without SMTP, the choices. The notifier's clock is
//! moved forward by the test (`NotifyConfig::clock`); everything else is real.

use crate::helpers::*;
use crate::notifying::*;
use colloque_protocol::{ConversationSummary, NOTICE_FR, NotificationSettings};
use colloque_server::notify::Clock;
use colloque_server::store::Store;
use colloque_testbed::{Mail, SmtpSink};
use serde_json::json;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Waits until `address` has received `count` e-mails (at most 20 s), and returns them.
async fn wait_for(smtp: &SmtpSink, address: &str, count: usize) -> Vec<Mail> {
    wait_for_count(count, &format!("e-mails to {address}"), || {
        smtp.mails_to(address)
    })
    .await
}

/// What an e-mail must never carry: names, the subject, the topic, the text.
fn assert_content_free(mail: &Mail, conversation: &ConversationSummary, text: &str) {
    let everything = format!("{}\n{}", mail.raw, mail.body);
    for secret in [
        text,
        conversation.subject.as_str(),
        conversation.doctor.display_name.as_str(),
        conversation.patient.display_name.as_str(),
        "Martin",
        "Emma",
        "Petit",
        "prise de sang",
        "test_results",
        "Résultats",
    ] {
        assert!(
            !everything.contains(secret),
            "an e-mail carries {secret:?}:\n{everything}"
        );
    }
    assert!(mail.body.contains(NOTICE_FR), "{}", mail.body);
    assert!(
        mail.body.contains("https://colloque.example.org"),
        "the app's link: {}",
        mail.body
    );
}

#[tokio::test]
async fn an_unread_message_is_announced_by_one_content_free_e_mail_after_the_delay() {
    let smtp = SmtpSink::start();
    let (app, clock, _, martin, conversation) = spawn_emma_and_martin(Some(&smtp)).await;
    let text = "Votre hémoglobine est basse : rappelez le cabinet.";

    app.send_ok(&martin, conversation.id, text).await;
    app.whole_pass().await;
    assert!(smtp.mails_to(EMMA).is_empty(), "not before the delay");

    clock.advance(2 * MINUTE);
    let mails = wait_for(&smtp, EMMA, 1).await;
    let mail = &mails[0];
    assert_content_free(mail, &conversation, text);
    assert_eq!(
        mail.header("subject"),
        Some("Nouveau message sur Colloque / New message on Colloque")
    );
    let unsubscribe = mail.header("list-unsubscribe").expect("List-Unsubscribe");
    assert!(unsubscribe.starts_with("<https://colloque.example.org/api/unsubscribe/"));
    assert_eq!(
        mail.header("list-unsubscribe-post"),
        Some("List-Unsubscribe=One-Click")
    );

    // A second message within the hour: no second e-mail; an hour after the first: one.
    app.send_ok(&martin, conversation.id, "Et prenez rendez-vous.")
        .await;
    clock.advance(10 * MINUTE);
    app.whole_pass().await;
    assert_eq!(smtp.mails_to(EMMA).len(), 1, "one e-mail per hour");
    clock.advance(HOUR);
    let mails = wait_for(&smtp, EMMA, 2).await;
    app.whole_pass().await;
    assert_eq!(smtp.mails_to(EMMA).len(), 2, "once, not twice");
    for mail in &mails {
        assert_content_free(mail, &conversation, "Et prenez rendez-vous.");
    }
}

#[tokio::test]
async fn a_message_read_before_the_delay_is_never_announced() {
    let smtp = SmtpSink::start();
    let (app, clock, emma, martin, conversation) = spawn_emma_and_martin(Some(&smtp)).await;
    let sent = app.send_ok(&martin, conversation.id, "Bien reçu.").await;

    let read = app
        .post(
            &format!("/api/conversations/{}/read", conversation.id),
            &emma.token,
            &json!({"seq": sent.seq}),
        )
        .await;
    assert_eq!(read.status(), 200);
    clock.advance(DAY);
    app.whole_pass().await;

    assert!(smtp.mails_to(EMMA).is_empty());
}

#[tokio::test]
async fn a_patient_is_reminded_of_an_answer_unread_for_three_days_and_a_doctor_of_a_wait() {
    let smtp = SmtpSink::start();
    let clock = Clock::default();
    let app = spawn_notifying_app(Some(&smtp), &clock).await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    app.no_quiet_hours(&emma).await;
    app.no_quiet_hours(&martin).await;
    let conversation = app.only_conversation(&emma).await;
    // The demo's last message is Emma's, unread by Dr Martin: he is told at once (it is
    // hours old), and she waits for him.
    let mails = wait_for(&smtp, MARTIN, 1).await;
    assert_eq!(
        mails[0].header("subject"),
        Some("Nouveau message sur Colloque / New message on Colloque")
    );

    // Eight days on (two working days, whatever the holidays): Dr Martin is reminded once.
    clock.advance(8 * DAY);
    let mails = wait_for(&smtp, MARTIN, 2).await;
    assert!(
        mails.iter().any(|mail| mail.header("subject")
            == Some("Un message attend votre réponse sur Colloque / A message awaits your reply")),
        "{mails:#?}"
    );
    clock.advance(2 * HOUR);
    app.whole_pass().await;
    assert_eq!(smtp.mails_to(MARTIN).len(), 2, "one reminder per wait");

    // He answers; Emma does not read it: told after the delay, reminded after three days.
    let text = "Oui, pendant les repas.";
    app.send_ok(&martin, conversation.id, text).await;
    clock.advance(2 * MINUTE);
    wait_for(&smtp, EMMA, 1).await;
    clock.advance(3 * DAY);
    let mails = wait_for(&smtp, EMMA, 2).await;
    let reminder = mails
        .iter()
        .find(|mail| {
            mail.header("subject")
                == Some("Un message vous attend sur Colloque / A message is waiting on Colloque")
        })
        .expect("the reminder");
    assert_content_free(reminder, &conversation, text);
    clock.advance(3 * DAY);
    app.whole_pass().await;
    assert_eq!(smtp.mails_to(EMMA).len(), 2, "one reminder per answer");
}

#[tokio::test]
async fn nothing_goes_out_during_quiet_hours_nor_after_the_one_click_unsubscribe() {
    let smtp = SmtpSink::start();
    let clock = Clock::default();
    let app = spawn_notifying_app(Some(&smtp), &clock).await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await;
    // Quiet hours around the practice's present hour.
    let now =
        jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
    let hour = |offset: i64| format!("{:02}:00", (i64::from(now.hour()) + offset).rem_euclid(24));
    let quiet =
        json!({"email": true, "push": true, "quiet_hours": {"from": hour(-1), "to": hour(2)}});
    assert_eq!(
        app.put("/api/me/notifications", &emma.token, &quiet)
            .await
            .status(),
        200
    );
    app.send_ok(&martin, conversation.id, "Rappelez-moi.").await;
    clock.advance(10 * MINUTE);
    app.whole_pass().await;
    assert!(smtp.mails_to(EMMA).is_empty(), "quiet hours");

    app.no_quiet_hours(&emma).await;
    let mails = wait_for(&smtp, EMMA, 1).await;
    let link = mails[0].header("list-unsubscribe").unwrap();
    let link = link.trim_start_matches('<').trim_end_matches('>');
    let path = link.strip_prefix("https://colloque.example.org").unwrap();
    assert!(mails[0].body.contains(link), "the link is in the body too");

    // A click opens a page that changes nothing; a wrong token is 404; the POST unsubscribes.
    let page = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("method=\"post\""));
    let settings: NotificationSettings = app
        .get("/api/me/notifications", &emma.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(settings.email, "a GET changes nothing");
    let forged = format!("{}x", &path[..path.len() - 1]);
    let one_click = |path: String| {
        app.client
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    assert_eq!(one_click(forged).await.unwrap().status(), 404);
    assert_eq!(one_click(path.to_owned()).await.unwrap().status(), 204);
    let settings: NotificationSettings = app
        .get("/api/me/notifications", &emma.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(!settings.email);
    assert_eq!(settings.quiet_hours, None, "her other choices kept");
    assert_eq!(app.audit_counts("email_unsubscribed").await.len(), 1);

    app.send_ok(&martin, conversation.id, "Encore une chose.")
        .await;
    clock.advance(2 * HOUR);
    app.whole_pass().await;
    assert_eq!(smtp.mails_to(EMMA).len(), 1, "no e-mail once unsubscribed");
}

#[tokio::test]
async fn without_smtp_e_mails_are_written_as_eml_files_in_the_data_directory() {
    let (app, clock, _, martin, conversation) = spawn_emma_and_martin(None).await;
    let text = "Le traitement est prêt à la pharmacie.";
    app.send_ok(&martin, conversation.id, text).await;
    clock.advance(5 * MINUTE);

    let dir = app.data_dir.path().join("mail");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mail = loop {
        let found = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .find_map(|entry| {
                let raw = std::fs::read_to_string(entry.path()).ok()?;
                (entry.path().extension()? == "eml" && raw.contains("emma.petit")).then_some(raw)
            });
        if let Some(raw) = found {
            break colloque_testbed::parse_mail(&raw);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no .eml for Emma in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_content_free(&mail, &conversation, text);
}

#[tokio::test]
async fn notification_choices_default_validate_and_are_audited() {
    let app = spawn_app().await;
    let hugo = app.login(HUGO).await;
    let defaults: NotificationSettings = app
        .get("/api/me/notifications", &hugo.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(defaults, NotificationSettings::default());
    assert_eq!(
        defaults
            .quiet_hours
            .as_ref()
            .map(|q| (q.from.as_str(), q.to.as_str())),
        Some(("21:00", "08:00"))
    );

    for bad in [
        json!({"email": true, "push": true, "quiet_hours": {"from": "25:00", "to": "08:00"}}),
        json!({"email": true, "push": true, "quiet_hours": {"from": "9h", "to": "08:00"}}),
        json!({"email": "yes", "push": true, "quiet_hours": null}),
    ] {
        let response = app.put("/api/me/notifications", &hugo.token, &bad).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["code"].is_string() && body["message"].is_string());
    }
    let chosen =
        json!({"email": false, "push": true, "quiet_hours": {"from": "22:30", "to": "07:00"}});
    let response = app.put("/api/me/notifications", &hugo.token, &chosen).await;
    assert_eq!(response.status(), 200);
    let read: serde_json::Value = app
        .get("/api/me/notifications", &hugo.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, chosen);
    let emma = app.login(EMMA).await;
    let theirs: NotificationSettings = app
        .get("/api/me/notifications", &emma.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs, NotificationSettings::default(), "per user");
    assert_eq!(
        app.audit_counts("notification_settings_changed")
            .await
            .len(),
        1
    );
    let anonymous = app
        .client
        .get(app.url("/api/me/notifications"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn one_instance_claims_each_e_mail() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let store: Store = app.db().await;
    let now = colloque_protocol::Timestamp(1_800_000_000_000);
    let seq = colloque_protocol::Seq(3);
    let never = colloque_protocol::Timestamp(0);

    let first = store.claim_email_notice(emma.id, conversation.id, never, seq, 0, now);
    assert!(first.await.unwrap(), "the first claim");
    let second = store.claim_email_notice(emma.id, conversation.id, never, seq, 0, now);
    assert!(
        !second.await.unwrap(),
        "a second instance that read the same row"
    );
    let later = colloque_protocol::Timestamp(now.0 + 3_600_000);
    let next = store.claim_email_notice(emma.id, conversation.id, now, seq, 0, later);
    assert!(
        next.await.unwrap(),
        "the next claim, from what the first wrote"
    );
}
