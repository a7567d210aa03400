//! The doctor decides who may write (issue 12): an intake setting (off, care team, patients
//! seen or booked within N months) and per-patient blocks. The patient learns it before typing;
//! the server refuses with a stable code; open conversations stay answerable unless blocked.

use crate::helpers::*;
use colloque_protocol::{
    ClientFrame, ConversationSummary, ErrorCode, IntakeDecision, IntakeMode, IntakeSettings,
    IntakeStatus, ServerFrame, Timestamp, UserId,
};
use colloque_server::store::NewAppointment;
use colloque_server::util::now_ms;
use serde_json::{Value, json};

const DAY_MS: i64 = 24 * 3600 * 1000;

async fn refused(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, error_code(&body).to_owned())
}

async fn set_intake(app: &TestApp, doctor: &Session, body: Value) -> IntakeSettings {
    let response = app.put("/api/me/intake", &doctor.token, &body).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn statuses(app: &TestApp, patient: &Session) -> Vec<IntakeStatus> {
    let response = app.get("/api/care-team/intake", &patient.token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn status_of(list: &[IntakeStatus], doctor: UserId) -> (IntakeDecision, Option<u32>) {
    let status = list
        .iter()
        .find(|s| s.doctor_id == doctor)
        .expect("the doctor is listed");
    (status.decision, status.months)
}

async fn block(app: &TestApp, doctor: &Session, patient: UserId) -> reqwest::Response {
    app.put(
        &format!("/api/patients/{patient}/block"),
        &doctor.token,
        &json!({}),
    )
    .await
}

#[tokio::test]
async fn a_patient_learns_before_typing_whether_each_doctor_takes_new_requests() {
    let app = spawn_app().await;
    let (lucas, emma) = (app.login(LUCAS).await, app.login(EMMA).await);
    let (martin, durand) = (app.login(MARTIN).await, app.login(DURAND).await);
    let before = statuses(&app, &lucas).await;
    assert_eq!(before.len(), 2, "one per doctor of the care team");
    assert_eq!(status_of(&before, martin.id).0, IntakeDecision::Open);

    set_intake(&app, &martin, json!({"mode": "off"})).await;
    set_intake(
        &app,
        &durand,
        json!({"mode": "recent_patients", "months": 3}),
    )
    .await;

    let lucas_view = statuses(&app, &lucas).await;
    assert_eq!(
        status_of(&lucas_view, martin.id),
        (IntakeDecision::IntakeClosed, None)
    );
    // Lucas has an appointment booked with Dr Durand; Emma has none.
    assert_eq!(
        status_of(&lucas_view, durand.id),
        (IntakeDecision::Open, None)
    );
    let emma_view = statuses(&app, &emma).await;
    assert_eq!(
        status_of(&emma_view, durand.id),
        (IntakeDecision::NotRecentPatient, Some(3))
    );
    // Doctors have no care team to ask about.
    let by_doctor = app.get("/api/care-team/intake", &martin.token).await;
    assert_eq!(by_doctor.status(), 403);
}

#[tokio::test]
async fn a_doctor_who_takes_no_new_requests_refuses_them_but_open_conversations_stay_answerable() {
    let app = spawn_app().await;
    let (lucas, emma, hugo) = (
        app.login(LUCAS).await,
        app.login(EMMA).await,
        app.login(HUGO).await,
    );
    let martin = app.login(MARTIN).await;
    let open = app.only_conversation(&emma).await.id;

    let settings = set_intake(&app, &martin, json!({"mode": "off"})).await;
    assert_eq!(settings.mode, IntakeMode::Off);

    let (status, code) = refused(app.start_conversation(&lucas, martin.id).await).await;
    assert_eq!((status, code.as_str()), (403, "intake_closed"));
    assert!(
        app.conversations(&lucas)
            .await
            .iter()
            .all(|c| c.doctor.id != martin.id),
        "nothing was created"
    );
    // Emma's open conversation is an exchange Dr Martin accepted: it stays answerable.
    app.send_ok(&emma, open, "Une dernière question").await;
    // Asking to start one gives her the open one back, whatever the setting.
    assert_eq!(app.start_conversation(&emma, martin.id).await.status(), 200);
    // Once closed, a new request follows the setting.
    let close = app
        .post(
            &format!("/api/conversations/{open}/close"),
            &martin.token,
            &json!({"reason": "Répondu"}),
        )
        .await;
    assert_eq!(close.status(), 200);
    let (status, code) = refused(app.start_conversation(&emma, martin.id).await).await;
    assert_eq!((status, code.as_str()), (403, "intake_closed"));
    // The doctor may still write to a patient of theirs.
    assert_eq!(app.start_conversation(&martin, hugo.id).await.status(), 201);
    // Back to the care team: Lucas may write again.
    set_intake(&app, &martin, json!({"mode": "care_team"})).await;
    assert_eq!(
        app.start_conversation(&lucas, martin.id).await.status(),
        201
    );
}

#[tokio::test]
async fn only_patients_seen_or_booked_within_the_look_back_may_start_a_request() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let durand = app.login(DURAND).await;
    set_intake(
        &app,
        &durand,
        json!({"mode": "recent_patients", "months": 3}),
    )
    .await;
    let (status, code) = refused(app.start_conversation(&emma, durand.id).await).await;
    assert_eq!((status, code.as_str()), (403, "intake_closed"));

    // Seen five months ago: too long ago.
    let db = app.db().await;
    let seen_at = |days: i64| NewAppointment {
        patient: emma.id,
        doctor: durand.id,
        starts_at: Timestamp(now_ms().0 - days * DAY_MS),
        duration_minutes: 30,
        location: "Cabinet",
        reason: "Consultation",
    };
    db.insert_appointment(&seen_at(150)).await.unwrap();
    let (status, code) = refused(app.start_conversation(&emma, durand.id).await).await;
    assert_eq!((status, code.as_str()), (403, "intake_closed"));

    // Seen forty days ago: within three months.
    db.insert_appointment(&seen_at(40)).await.unwrap();
    assert_eq!(app.start_conversation(&emma, durand.id).await.status(), 201);
}

#[tokio::test]
async fn a_blocked_patient_can_neither_start_nor_write_and_is_told_so() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let durand = app.login(DURAND).await;
    let conversation = app.only_conversation(&emma).await.id;
    let mut emma_socket = app.socket(&emma).await;

    let response = block(&app, &martin, emma.id).await;
    assert_eq!(response.status(), 200);
    let settings: IntakeSettings = response.json().await.unwrap();
    assert_eq!(settings.blocked, vec![emma.id]);
    // Her open screen hears it at once, before she types: the summary says so.
    match emma_socket.next_frame().await {
        ServerFrame::Conversation {
            conversation: pushed,
        } => {
            assert_eq!(pushed.id, conversation);
            assert!(pushed.blocked);
        }
        other => panic!("expected the conversation, got {other:?}"),
    }
    assert!(app.only_conversation(&emma).await.blocked);

    let (status, code) = refused(
        app.send_message(&emma, conversation, new_client_id(), "Docteur ?")
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "patient_blocked"));
    let client_id = new_client_id();
    emma_socket
        .send(&ClientFrame::Send {
            conversation_id: conversation,
            client_id,
            body: "Docteur ?".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    assert_eq!(
        emma_socket.next_error().await,
        (ErrorCode::PatientBlocked, Some(client_id))
    );
    assert_eq!(app.last_seq(&emma, conversation).await, 3, "nothing stored");
    let (status, code) = refused(app.start_conversation(&emma, martin.id).await).await;
    assert_eq!((status, code.as_str()), (403, "patient_blocked"));
    assert_eq!(
        status_of(&statuses(&app, &emma).await, martin.id).0,
        IntakeDecision::PatientBlocked
    );
    // The doctor still writes to her; her other doctor is not affected.
    app.send_ok(&martin, conversation, "Je vous rappelle.")
        .await;
    assert_eq!(app.start_conversation(&emma, durand.id).await.status(), 201);

    let lifted = app
        .delete(&format!("/api/patients/{}/block", emma.id), &martin.token)
        .await;
    assert_eq!(lifted.status(), 200);
    let settings: IntakeSettings = lifted.json().await.unwrap();
    assert!(settings.blocked.is_empty());
    let listed = app.conversations(&emma).await;
    assert!(listed.iter().all(|c| !c.blocked), "lifted everywhere");
    app.send_ok(&emma, conversation, "Merci docteur").await;
    let trail = app.audit_of(MARTIN).await;
    for action in ["patient_blocked", "patient_unblocked"] {
        let entry = trail.iter().find(|r| r.action == action).expect(action);
        assert_eq!(
            entry.detail.as_deref(),
            Some(&*format!("patient {}", emma.id))
        );
    }
}

#[tokio::test]
async fn only_a_doctor_blocks_and_only_their_own_patients() {
    let app = spawn_app().await;
    let (emma, hugo) = (app.login(EMMA).await, app.login(HUGO).await);
    let durand = app.login(DURAND).await;
    // Hugo is not a patient of Dr Durand's.
    assert_eq!(
        refused(block(&app, &durand, hugo.id).await).await,
        (404, "not_found".into())
    );
    assert_eq!(
        refused(block(&app, &durand, UserId(999_999)).await).await,
        (404, "not_found".into())
    );
    // A patient has no intake setting and blocks nobody.
    assert_eq!(refused(block(&app, &emma, hugo.id).await).await.0, 403);
    let put = app
        .put("/api/me/intake", &emma.token, &json!({"mode": "off"}))
        .await;
    assert_eq!(put.status(), 403);
    assert_eq!(app.get("/api/me/intake", &emma.token).await.status(), 403);
}

#[tokio::test]
async fn a_bad_intake_setting_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    for (body, code) in [
        (
            json!({"mode": "recent_patients", "months": 0}),
            "invalid_input",
        ),
        (
            json!({"mode": "recent_patients", "months": 25}),
            "invalid_input",
        ),
        (json!({"mode": "sometimes"}), "invalid_json"),
        (json!({"months": 6}), "invalid_json"),
    ] {
        let response = app.put("/api/me/intake", &martin.token, &body).await;
        assert_eq!(refused(response).await, (400, code.to_owned()), "{body}");
    }
    let current: IntakeSettings = app
        .get("/api/me/intake", &martin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current.mode, IntakeMode::CareTeam, "the default, untouched");
    assert_eq!(current.months, 12);
    // A good one is kept, recorded, and its months survive a change of mode.
    set_intake(
        &app,
        &martin,
        json!({"mode": "recent_patients", "months": 6}),
    )
    .await;
    let back = set_intake(&app, &martin, json!({"mode": "care_team"})).await;
    assert_eq!((back.mode, back.months), (IntakeMode::CareTeam, 6));
    let changes = app
        .audit_of(MARTIN)
        .await
        .into_iter()
        .filter(|r| r.action == "intake_changed")
        .count();
    assert_eq!(changes, 2);
}

#[tokio::test]
async fn a_doctor_starting_a_conversation_is_not_held_by_their_own_setting() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let hugo = app.login(HUGO).await;
    set_intake(&app, &martin, json!({"mode": "off"})).await;
    assert_eq!(block(&app, &martin, hugo.id).await.status(), 200);
    let started = app.start_conversation(&martin, hugo.id).await;
    assert_eq!(started.status(), 201);
    let summary: ConversationSummary = started.json().await.unwrap();
    app.send_ok(
        &martin,
        summary.id,
        "Bonjour Hugo, vos résultats sont arrivés.",
    )
    .await;
}
