//! Office hours, the promised reply time and absences (issue 12): each doctor sets their own
//! (and only their own), every change is audited, the patient reads the due date and today's
//! absence before sending, and during an absence one automatic reply a day and conversation
//! names the covering doctor.

use crate::helpers::*;
use colloque_protocol::{
    ConversationSummary, IntakeStatus, MessageKind, ReplySettings, ServerFrame, Timestamp, UserId,
};
use colloque_server::care::hours::{hours_from_db, policy, practice_day};
use colloque_server::care::reply_due;
use colloque_server::util::now_ms;
use serde_json::{Value, json};

fn week(opens: &str, closes: &str) -> Value {
    let day = json!({"opens": opens, "closes": closes});
    json!([day, day, day, day, day, null, null])
}

async fn settings(response: reqwest::Response) -> ReplySettings {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn refused(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, error_code(&body).to_owned())
}

async fn status_of(app: &TestApp, patient: &Session, doctor: UserId) -> IntakeStatus {
    let response = app.get("/api/care-team/intake", &patient.token).await;
    assert_eq!(response.status(), 200);
    let list: Vec<IntakeStatus> = response.json().await.unwrap();
    list.into_iter()
        .find(|status| status.doctor_id == doctor)
        .expect("the doctor is listed")
}

async fn summary(
    app: &TestApp,
    session: &Session,
    id: colloque_protocol::ConversationId,
) -> ConversationSummary {
    let response = app
        .get(&format!("/api/conversations/{id}"), &session.token)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Today in the practice's time zone, shifted by `days`, as `YYYY-MM-DD`.
fn day(days: i64) -> String {
    let today = practice_day(now_ms()).unwrap();
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

/// Nine to six, Monday to Friday, `days` working days, no absence: the policy the tests set.
fn nine_to_six(days: u32) -> colloque_server::care::ReplyPolicy {
    policy(
        days,
        hours_from_db("540-1080,540-1080,540-1080,540-1080,540-1080,,").unwrap(),
        &[],
    )
}

/// The next `message` frame (conversation frames before it are skipped).
async fn next_message(socket: &mut Socket) -> colloque_protocol::Message {
    loop {
        if let ServerFrame::Message { message } = socket.next_frame().await {
            return message;
        }
    }
}

#[tokio::test]
async fn the_patient_reads_when_the_answer_is_due_before_and_after_sending() {
    let app = spawn_app().await;
    let (emma, lucas) = (app.login(EMMA).await, app.login(LUCAS).await);
    let (martin, durand) = (app.login(MARTIN).await, app.login(DURAND).await);

    // Never set: no promise, and nine to six on weekdays to start from.
    let start = settings(app.get("/api/me/reply-settings", &martin.token).await).await;
    assert_eq!(start.working_days, None);
    assert_eq!(start.time_zone, "Europe/Paris");
    assert_eq!(start.hours.len(), 7);
    assert_eq!(start.hours[5], None);
    assert_eq!(start.hours[0].as_ref().unwrap().opens, "09:00");
    assert_eq!(status_of(&app, &lucas, martin.id).await.reply_due, None);

    let set = settings(
        app.put(
            "/api/me/reply-settings",
            &martin.token,
            &json!({"working_days": 2, "hours": week("09:00", "18:00")}),
        )
        .await,
    )
    .await;
    assert_eq!(set.working_days, Some(2));
    assert_eq!(set.hours[4].as_ref().unwrap().closes, "18:00");
    assert_eq!(
        settings(app.get("/api/me/reply-settings", &martin.token).await).await,
        set
    );

    // Before writing: a request sent now is due two working days from now (the server's now
    // lies between these two).
    let before = Timestamp(now_ms().0);
    let due = status_of(&app, &lucas, martin.id).await.reply_due;
    let after = Timestamp(now_ms().0);
    let (earliest, latest) = (
        reply_due(&nine_to_six(2), before).unwrap(),
        reply_due(&nine_to_six(2), after).unwrap(),
    );
    let due = due.expect("Dr Martin promised an answer");
    assert!(earliest <= due && due <= latest, "{due:?}");
    assert!(due > before);
    // Dr Durand promised nothing.
    assert_eq!(status_of(&app, &lucas, durand.id).await.reply_due, None);
    // The composer of a request just started says the same, before anybody wrote.
    let before = Timestamp(now_ms().0);
    let started: ConversationSummary = app
        .start_conversation(&lucas, martin.id)
        .await
        .json()
        .await
        .unwrap();
    let after = Timestamp(now_ms().0);
    let due = started
        .reply_due
        .expect("a promise before the first message");
    assert!(reply_due(&nine_to_six(2), before).unwrap() <= due);
    assert!(due <= reply_due(&nine_to_six(2), after).unwrap());

    // Emma's open conversation: while she waits, her due date counts from her first unanswered
    // message; once the doctor answered, there is none.
    let id = app.only_conversation(&emma).await.id;
    app.send_ok(&martin, id, "Bonjour, je regarde.").await;
    assert_eq!(summary(&app, &emma, id).await.reply_due, None);
    let mut emma_tab = app.socket(&emma).await;
    app.send_ok(&emma, id, "Merci docteur").await;
    let waiting = summary(&app, &emma, id).await;
    let since = waiting.waiting_since.expect("Emma waits");
    assert_eq!(waiting.reply_due, reply_due(&nine_to_six(2), since));
    // Her open tabs learn it too: the message that started the wait brings the conversation.
    loop {
        if let ServerFrame::Conversation { conversation } = emma_tab.next_frame().await
            && conversation.id == id
        {
            assert_eq!(conversation.reply_due, waiting.reply_due);
            break;
        }
    }
    app.send_ok(&emma, id, "Une précision").await;
    assert_eq!(
        summary(&app, &emma, id).await.reply_due,
        reply_due(&nine_to_six(2), since),
        "still from her first unanswered message"
    );
    // No promise any more: nothing shown.
    settings(
        app.put(
            "/api/me/reply-settings",
            &martin.token,
            &json!({"working_days": null, "hours": week("09:00", "18:00")}),
        )
        .await,
    )
    .await;
    assert_eq!(summary(&app, &emma, id).await.reply_due, None);

    let trail = app.audit_of(MARTIN).await;
    let changes: Vec<_> = trail
        .iter()
        .filter(|r| r.action == "reply_settings_changed")
        .map(|r| r.detail.clone().unwrap_or_default())
        .collect();
    assert_eq!(changes, ["2 working days", "no promise"]);
}

#[tokio::test]
async fn an_absence_is_shown_before_sending_and_posts_one_automatic_reply_a_day_naming_the_covering_doctor()
 {
    let app = spawn_app().await;
    let (emma, lucas) = (app.login(EMMA).await, app.login(LUCAS).await);
    let (martin, durand) = (app.login(MARTIN).await, app.login(DURAND).await);
    let durand_before = app.conversations(&durand).await;

    let colleagues: Vec<colloque_protocol::UserProfile> = app
        .get("/api/me/colleagues", &martin.token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = colleagues.iter().map(|c| c.display_name.as_str()).collect();
    assert_eq!(names, ["Dr Paul Durand"]);

    let (from, to) = (day(-1), day(5));
    let added = settings(
        app.post(
            "/api/me/absences",
            &martin.token,
            &json!({"from": from, "to": to, "covering_doctor_id": durand.id}),
        )
        .await,
    )
    .await;
    assert_eq!(added.absences.len(), 1);
    let absence = &added.absences[0];
    assert_eq!(
        (absence.from.as_str(), absence.to.as_str()),
        (from.as_str(), to.as_str())
    );
    assert_eq!(
        absence.covering_doctor.as_ref().map(|d| d.id),
        Some(durand.id)
    );

    // Before writing: a new request, and the open conversation, both say so.
    let notice = status_of(&app, &lucas, martin.id)
        .await
        .absence
        .expect("away");
    assert_eq!(notice.until, to);
    assert_eq!(notice.covering_doctor.as_deref(), Some("Dr Paul Durand"));
    assert_eq!(status_of(&app, &lucas, durand.id).await.absence, None);
    let id = app.only_conversation(&emma).await.id;
    assert_eq!(
        summary(&app, &emma, id).await.absence.as_ref(),
        Some(&notice)
    );

    let mut emma_tab = app.socket(&emma).await;
    let mut martin_tab = app.socket(&martin).await;
    let sent = app.send_ok(&emma, id, "Bonjour, j'ai une question").await;
    for tab in [&mut emma_tab, &mut martin_tab] {
        let mut reply = next_message(tab).await;
        if reply.id == sent.id {
            reply = next_message(tab).await;
        }
        assert_eq!(reply.kind, MessageKind::AutoReply);
        assert_eq!(reply.seq.0, sent.seq.0 + 1);
        assert!(
            reply.body.contains("Dr Claire Martin ne consulte pas"),
            "{}",
            reply.body
        );
        assert!(
            reply.body.contains("Dr Paul Durand assure le relais"),
            "{}",
            reply.body
        );
        assert!(
            !reply.body.contains("question"),
            "nothing of the message is quoted"
        );
    }
    // The same day, a second message gets no second reply.
    let second = app.send_ok(&emma, id, "Et aussi").await;
    assert_eq!(second.seq.0, sent.seq.0 + 2);
    for tab in [&mut emma_tab, &mut martin_tab] {
        let mut message = next_message(tab).await;
        if message.id != second.id {
            message = next_message(tab).await;
        }
        assert_eq!(message.id, second.id);
    }
    // Let a late reply arrive if there were one: a message and a ping go through the same
    // writer, so a reply stored before the ping's answer would come first.
    app.send_ok(&martin, id, "Vu").await;
    next_message(&mut emma_tab).await;
    let page = app.history(&emma, id, "").await;
    let replies = page
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::AutoReply)
        .count();
    assert_eq!(replies, 1, "one automatic reply a day");
    // The covering doctor is told nothing: no conversation came to them.
    assert_eq!(app.conversations(&durand).await.len(), durand_before.len());

    // Audited; deleting it ends the notice.
    let trail = app.audit_of(MARTIN).await;
    let added_rows: Vec<_> = trail
        .iter()
        .filter(|r| r.action == "absence_added")
        .collect();
    assert_eq!(added_rows.len(), 1);
    let detail = added_rows[0].detail.clone().unwrap_or_default();
    assert!(
        detail.contains(&format!("covered by doctor {}", durand.id)),
        "{detail}"
    );
    let absence_id = added.absences[0].id;
    let left = settings(
        app.delete(&format!("/api/me/absences/{absence_id}"), &martin.token)
            .await,
    )
    .await;
    assert!(left.absences.is_empty());
    assert_eq!(status_of(&app, &lucas, martin.id).await.absence, None);
    assert_eq!(summary(&app, &emma, id).await.absence, None);
    assert!(
        app.audit_of(MARTIN)
            .await
            .iter()
            .any(|r| r.action == "absence_deleted")
    );
}

#[tokio::test]
async fn the_automatic_reply_leaves_the_patients_message_unread_and_the_queue_unchanged() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    settings(
        app.post(
            "/api/me/absences",
            &martin.token,
            &json!({"from": day(0), "to": day(0)}),
        )
        .await,
    )
    .await;
    let id = app.only_conversation(&emma).await.id;
    let before = summary(&app, &martin, id).await;
    let mut emma_tab = app.socket(&emma).await;
    let sent = app.send_ok(&emma, id, "Bonjour").await;
    let reply = next_message(&mut emma_tab).await;
    let reply = if reply.id == sent.id {
        next_message(&mut emma_tab).await
    } else {
        reply
    };
    assert_eq!(reply.kind, MessageKind::AutoReply);
    assert!(
        !reply.body.contains("relais"),
        "nobody covers: {}",
        reply.body
    );
    assert!(reply.body.contains("appelez le cabinet"), "{}", reply.body);
    let doctor_view = summary(&app, &martin, id).await;
    assert!(
        doctor_view.my_read_seq < sent.seq,
        "the doctor has not read it"
    );
    assert_eq!(doctor_view.triage, before.triage);
    assert!(
        doctor_view.waiting_since.is_some(),
        "the patient still waits"
    );
    let patient_view = summary(&app, &emma, id).await;
    assert!(patient_view.other_read_seq < sent.seq);
}

#[tokio::test]
async fn only_a_doctor_changes_their_own_hours_and_absences() {
    let app = spawn_app().await;
    let (lucas, hugo) = (app.login(LUCAS).await, app.login(HUGO).await);
    let (martin, durand) = (app.login(MARTIN).await, app.login(DURAND).await);
    let body = json!({"working_days": 1, "hours": week("09:00", "18:00")});
    let absence = json!({"from": day(1), "to": day(2)});

    assert_eq!(
        refused(app.put("/api/me/reply-settings", &lucas.token, &body).await).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        refused(app.get("/api/me/reply-settings", &lucas.token).await).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        refused(app.post("/api/me/absences", &lucas.token, &absence).await).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        refused(app.get("/api/me/colleagues", &lucas.token).await).await,
        (403, "forbidden".into())
    );

    let mine = settings(app.post("/api/me/absences", &martin.token, &absence).await).await;
    let id = mine.absences[0].id;
    // Another doctor cannot delete it, nor a patient.
    assert_eq!(
        refused(
            app.delete(&format!("/api/me/absences/{id}"), &durand.token)
                .await
        )
        .await,
        (404, "not_found".into())
    );
    assert_eq!(
        refused(
            app.delete(&format!("/api/me/absences/{id}"), &lucas.token)
                .await
        )
        .await,
        (403, "forbidden".into())
    );
    assert_eq!(
        settings(app.get("/api/me/reply-settings", &martin.token).await)
            .await
            .absences
            .len(),
        1
    );
    // The covering doctor is a colleague: not a patient, not oneself, not a stranger.
    for covering in [hugo.id, martin.id, UserId(999_999)] {
        let with = json!({"from": day(1), "to": day(2), "covering_doctor_id": covering});
        assert_eq!(
            refused(app.post("/api/me/absences", &martin.token, &with).await).await,
            (422, "unknown_reference".into()),
            "{covering}"
        );
    }
    // Dr Durand's settings did not change.
    let his = settings(app.get("/api/me/reply-settings", &durand.token).await).await;
    assert_eq!((his.working_days, his.absences.len()), (None, 0));
    assert!(
        app.audit_of(DURAND)
            .await
            .iter()
            .all(|r| r.action != "absence_added" && r.action != "reply_settings_changed")
    );
}

#[tokio::test]
async fn bad_hours_and_days_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let six_days = json!([null, null, null, null, null, null]);
    for body in [
        json!({"working_days": 2, "hours": six_days}),
        json!({"working_days": 11, "hours": week("09:00", "18:00")}),
        json!({"working_days": 2, "hours": week("9:00", "18:00")}),
        json!({"working_days": 2, "hours": week("09:00", "24:00")}),
    ] {
        let (status, code) = refused(
            app.put("/api/me/reply-settings", &martin.token, &body)
                .await,
        )
        .await;
        assert_eq!((status, code.as_str()), (400, "invalid_input"), "{body}");
    }
    for body in [
        json!({"working_days": -1, "hours": week("09:00", "18:00")}),
        json!({"hours": "9-18"}),
    ] {
        let response = app
            .put("/api/me/reply-settings", &martin.token, &body)
            .await;
        assert_eq!(response.status(), 400, "{body}");
    }
    for body in [
        json!({"from": "2027-02-30", "to": "2027-03-02"}),
        json!({"from": "1/3/2027", "to": "2027-03-02"}),
        json!({"from": day(1), "to": format!("{}T00:00", day(2))}),
    ] {
        let (status, code) =
            refused(app.post("/api/me/absences", &martin.token, &body).await).await;
        assert_eq!((status, code.as_str()), (400, "invalid_input"), "{body}");
    }
    let unchanged = settings(app.get("/api/me/reply-settings", &martin.token).await).await;
    assert_eq!(
        (unchanged.working_days, unchanged.absences.len()),
        (None, 0)
    );
    assert!(
        app.audit_of(MARTIN)
            .await
            .iter()
            .all(|r| r.action != "absence_added" && r.action != "reply_settings_changed")
    );

    // What no schema can refuse has a meaning instead: a day that does not close after it
    // opens is closed; days in either order; an absence already over records nothing.
    let evening = settings(
        app.put(
            "/api/me/reply-settings",
            &martin.token,
            &json!({"working_days": 0, "hours": week("18:00", "09:00")}),
        )
        .await,
    )
    .await;
    assert!(evening.hours.iter().all(Option::is_none));
    let swapped = settings(
        app.post(
            "/api/me/absences",
            &martin.token,
            &json!({"from": day(3), "to": day(1)}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            swapped.absences[0].from.clone(),
            swapped.absences[0].to.clone()
        ),
        (day(1), day(3))
    );
    let over = settings(
        app.post(
            "/api/me/absences",
            &martin.token,
            &json!({"from": day(-10), "to": day(-2)}),
        )
        .await,
    )
    .await;
    assert_eq!(over.absences.len(), 1);
}

#[tokio::test]
async fn a_doctor_has_at_most_the_limit_of_absences_to_come_even_when_adding_them_at_once() {
    let app = spawn_app_unthrottled().await;
    let martin = app.login(MARTIN).await;
    // All but two places taken, written straight into the database: through the API each
    // answer would carry every absence so far.
    let (from, to) = (day(30), day(31));
    on_db!(app.db().await, |pool| {
        for _ in 0..colloque_protocol::MAX_ABSENCES - 2 {
            sqlx::query(
                "INSERT INTO absences (doctor_id, from_day, to_day, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(martin.id.0)
            .bind(&from)
            .bind(&to)
            .bind(now_ms().0)
            .execute(&pool)
            .await
            .unwrap();
        }
    });
    // Four at once for the last two places: each count and its insert are one writer's.
    let body = json!({"from": day(40), "to": day(41), "covering_doctor_id": null});
    let answers = futures_util::future::join_all(
        (0..4).map(|_| app.post("/api/me/absences", &martin.token, &body)),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 409, 409]);
    let response = app.post("/api/me/absences", &martin.token, &body).await;
    assert_eq!(refused(response).await, (409, "limit_reached".to_owned()));
    let response = app.get("/api/me/reply-settings", &martin.token).await;
    assert_eq!(
        settings(response).await.absences.len(),
        colloque_protocol::MAX_ABSENCES
    );
}
