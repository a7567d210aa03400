//! Reply templates (issue 12): a doctor's own and the shared ones, each write authorized to the
//! template's owner and audited (never its title nor its text), patients kept out of every
//! route, and a message sent from a template records which one, in its row and the audit
//! trail, over REST and the socket. docs/protocol.md, "Reply templates".

use crate::helpers::*;
use colloque_protocol::{
    ClientFrame, ConversationId, ErrorCode, MAX_TEMPLATE_BODY_CHARS, MAX_TEMPLATE_TITLE_CHARS,
    MAX_TEMPLATES_PER_DOCTOR, Message, MessageId, ReplyTemplate, ServerFrame, TemplateId,
};
use serde_json::{Value, json};

async fn created(response: reqwest::Response) -> ReplyTemplate {
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn refused(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, error_code(&body).to_owned())
}

async fn list(app: &TestApp, who: &Session) -> Vec<ReplyTemplate> {
    let response = app.get("/api/me/templates", &who.token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn create(app: &TestApp, who: &Session, title: &str, shared: bool) -> ReplyTemplate {
    created(
        app.post(
            "/api/me/templates",
            &who.token,
            &json!({"title": title, "body": "Bonjour {prénom}, à bientôt. {médecin}", "shared": shared}),
        )
        .await,
    )
    .await
}

async fn send_from(
    app: &TestApp,
    who: &Session,
    id: ConversationId,
    template: TemplateId,
) -> reqwest::Response {
    app.post(
        &format!("/api/conversations/{id}/messages"),
        &who.token,
        &json!({"client_id": new_client_id(), "body": "Bonjour Emma, à bientôt. Dr Martin",
                "template_id": template}),
    )
    .await
}

async fn template_of(app: &TestApp, message: MessageId) -> Option<TemplateId> {
    app.db().await.template_of_message(message).await.unwrap()
}

async fn count_messages(app: &TestApp) -> i64 {
    on_db!(app.db().await, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}

#[tokio::test]
async fn a_patient_is_refused_every_template_route_and_the_refusals_are_counted() {
    let app = spawn_app().await;
    let (emma, martin) = (app.login(EMMA).await, app.login(MARTIN).await);
    let mine = create(&app, &martin, "Résultats normaux", true).await;
    let body = json!({"title": "x", "body": "y"});
    let path = format!("/api/templates/{}", mine.id);
    for response in [
        app.get("/api/me/templates", &emma.token).await,
        app.post("/api/me/templates", &emma.token, &body).await,
        app.put(&path, &emma.token, &body).await,
        app.delete(&path, &emma.token).await,
    ] {
        assert_eq!(refused(response).await, (403, "forbidden".to_owned()));
    }
    assert_eq!(list(&app, &martin).await, vec![mine], "nothing changed");
    let mut app = app;
    app.stop().await;
    let denials = app.audit_counts("access_denied").await;
    let emma_id = emma.id.0;
    assert_eq!(
        denials
            .iter()
            .filter(|(_, user, _)| *user == Some(emma_id))
            .map(|(_, _, n)| n)
            .sum::<i64>(),
        4,
        "{denials:?}"
    );
}

#[tokio::test]
async fn a_personal_template_is_its_owners_alone_and_a_shared_one_only_its_owner_may_change() {
    let app = spawn_app().await;
    let (martin, durand) = (app.login(MARTIN).await, app.login(DURAND).await);
    let personal = create(&app, &martin, "Ordonnance", false).await;
    let shared = create(&app, &martin, "Analyses", true).await;
    assert_eq!(personal.owner.id, martin.id);
    assert_eq!(personal.body, "Bonjour {prénom}, à bientôt. {médecin}");
    // By title, the doctor's own and the shared ones.
    assert_eq!(
        list(&app, &martin).await,
        vec![shared.clone(), personal.clone()]
    );
    assert_eq!(list(&app, &durand).await, vec![shared.clone()]);

    let edit = json!({"title": "Autre", "body": "Autre texte", "shared": true});
    // Another doctor: 403 for the shared one they can see, 404 for the personal one.
    for (template, expected) in [
        (&shared, (403, "forbidden")),
        (&personal, (404, "not_found")),
    ] {
        let path = format!("/api/templates/{}", template.id);
        let expected = (expected.0, expected.1.to_owned());
        assert_eq!(
            refused(app.put(&path, &durand.token, &edit).await).await,
            expected
        );
        assert_eq!(
            refused(app.delete(&path, &durand.token).await).await,
            expected
        );
    }
    assert_eq!(
        list(&app, &martin).await,
        vec![shared.clone(), personal.clone()]
    );
    // And no template of that id at all: 404.
    let none = app.put("/api/templates/999999", &martin.token, &edit).await;
    assert_eq!(refused(none).await, (404, "not_found".to_owned()));

    // The owner edits (making the personal one shared) and deletes.
    let response = app
        .put(
            &format!("/api/templates/{}", personal.id),
            &martin.token,
            &edit,
        )
        .await;
    assert_eq!(response.status(), 200);
    let edited: ReplyTemplate = response.json().await.unwrap();
    assert_eq!((edited.title.as_str(), edited.shared), ("Autre", true));
    assert_eq!(list(&app, &durand).await.len(), 2, "now shared");
    let response = app
        .delete(&format!("/api/templates/{}", shared.id), &martin.token)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(list(&app, &durand).await, vec![edited]);

    // Every write is audited with the template's id, never its title nor its text.
    let trail = app.audit_of(MARTIN).await;
    let writes: Vec<(&str, &str)> = trail
        .iter()
        .filter(|r| r.action.starts_with("template_"))
        .map(|r| (r.action.as_str(), r.detail.as_deref().unwrap_or("")))
        .collect();
    let (p, s) = (personal.id, shared.id);
    assert_eq!(
        writes,
        vec![
            (
                "template_created",
                format!("template {p}, personal").as_str()
            ),
            ("template_created", format!("template {s}, shared").as_str()),
            ("template_updated", format!("template {p}, shared").as_str()),
            ("template_deleted", format!("template {s}").as_str()),
        ]
    );
    assert!(
        !app.audit_of(DURAND)
            .await
            .iter()
            .any(|r| r.action.starts_with("template_")),
        "a refused write records no change"
    );
}

#[tokio::test]
async fn a_bad_template_is_refused_with_its_reason_and_nothing_is_stored() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let long_title = "é".repeat(MAX_TEMPLATE_TITLE_CHARS + 1);
    let long_body = "é".repeat(MAX_TEMPLATE_BODY_CHARS + 1);
    for body in [
        json!({"title": "  ", "body": "texte"}),
        json!({"title": "titre", "body": " \n "}),
        json!({"title": long_title, "body": "texte"}),
        json!({"title": "titre", "body": long_body}),
        json!({"title": "deux\nlignes", "body": "texte"}),
        json!({"title": "titre", "body": "a\u{0}b"}),
    ] {
        let response = app.post("/api/me/templates", &martin.token, &body).await;
        assert_eq!(refused(response).await, (400, "invalid_input".to_owned()));
    }
    let response = app
        .post("/api/me/templates", &martin.token, &json!({"title": "t"}))
        .await;
    assert_eq!(refused(response).await, (400, "invalid_json".to_owned()));
    assert!(list(&app, &martin).await.is_empty());

    // At the limits exactly: stored (trimmed).
    let title = "é".repeat(MAX_TEMPLATE_TITLE_CHARS);
    let body = "é".repeat(MAX_TEMPLATE_BODY_CHARS);
    let response = app
        .post(
            "/api/me/templates",
            &martin.token,
            &json!({"title": format!(" {title} "), "body": body}),
        )
        .await;
    let stored = created(response).await;
    assert_eq!(stored.title, title);
    assert!(!stored.shared);
    // A bad edit changes nothing either.
    let path = format!("/api/templates/{}", stored.id);
    let bad = app
        .put(&path, &martin.token, &json!({"title": "", "body": "x"}))
        .await;
    assert_eq!(refused(bad).await, (400, "invalid_input".to_owned()));
    assert_eq!(list(&app, &martin).await, vec![stored]);
}

#[tokio::test]
async fn a_doctor_owns_at_most_the_limit_of_templates_even_when_writing_them_at_once() {
    let app = spawn_app_unthrottled().await;
    let martin = app.login(MARTIN).await;
    for n in 0..MAX_TEMPLATES_PER_DOCTOR - 2 {
        create(&app, &martin, &format!("Modèle {n:03}"), n % 2 == 0).await;
    }
    // Four at once for the last two places: each count and its insert are one writer's.
    let body = json!({"title": "au même moment", "body": "texte"});
    let answers = futures_util::future::join_all(
        (0..4).map(|_| app.post("/api/me/templates", &martin.token, &body)),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 409, 409]);
    let response = app
        .post(
            "/api/me/templates",
            &martin.token,
            &json!({"title": "un de trop", "body": "texte"}),
        )
        .await;
    assert_eq!(refused(response).await, (409, "limit_reached".to_owned()));
    assert_eq!(list(&app, &martin).await.len(), MAX_TEMPLATES_PER_DOCTOR);
    // Another doctor is not counted against.
    let durand = app.login(DURAND).await;
    create(&app, &durand, "Le mien", false).await;
}

#[tokio::test]
async fn a_message_sent_from_a_template_records_it_in_its_row_and_the_audit_trail() {
    let app = spawn_app().await;
    let (emma, martin) = (app.login(EMMA).await, app.login(MARTIN).await);
    let id = app.only_conversation(&emma).await.id;
    let template = create(&app, &martin, "Résultats", false).await;

    let response = send_from(&app, &martin, id, template.id).await;
    assert_eq!(response.status(), 201);
    let sent: Message = response.json().await.unwrap();
    assert_eq!(template_of(&app, sent.id).await, Some(template.id));
    let plain = app.send_ok(&martin, id, "Sans modèle").await;
    assert_eq!(template_of(&app, plain.id).await, None);

    let uses: Vec<_> = app
        .audit_of(MARTIN)
        .await
        .into_iter()
        .filter(|r| r.action == "template_used")
        .collect();
    assert_eq!(uses.len(), 1, "{uses:?}");
    assert_eq!(uses[0].conversation_id, Some(id.0));
    assert_eq!(
        uses[0].detail.as_deref(),
        Some(format!("template {}", template.id).as_str())
    );

    // The template deleted later: the message keeps its id.
    let response = app
        .delete(&format!("/api/templates/{}", template.id), &martin.token)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(template_of(&app, sent.id).await, Some(template.id));
}

#[tokio::test]
async fn another_doctors_shared_template_may_be_cited_but_not_a_personal_one_nor_by_a_patient() {
    let app = spawn_app().await;
    let (lucas, emma) = (app.login(LUCAS).await, app.login(EMMA).await);
    let (martin, durand) = (app.login(MARTIN).await, app.login(DURAND).await);
    let lucas_with_durand = app.only_conversation(&lucas).await.id;
    let emma_with_martin = app.only_conversation(&emma).await.id;
    let shared = create(&app, &martin, "Partagé", true).await;
    let personal = create(&app, &martin, "Personnel", false).await;

    let response = send_from(&app, &durand, lucas_with_durand, shared.id).await;
    assert_eq!(response.status(), 201);
    let sent: Message = response.json().await.unwrap();
    assert_eq!(template_of(&app, sent.id).await, Some(shared.id));

    let before = count_messages(&app).await;
    // Another doctor's personal template, or none of this id: as if it did not exist (422:
    // the conversation the path names is there; the body names nothing usable).
    for template in [personal.id, TemplateId(999_999)] {
        let response = send_from(&app, &durand, lucas_with_durand, template).await;
        assert_eq!(
            refused(response).await,
            (422, "unknown_reference".to_owned())
        );
    }
    // A patient citing a template, even a shared one of their own doctor's.
    let response = send_from(&app, &emma, emma_with_martin, shared.id).await;
    assert_eq!(refused(response).await, (403, "forbidden".to_owned()));
    assert_eq!(count_messages(&app).await, before, "nothing stored");
    assert!(
        !app.audit_of(EMMA)
            .await
            .iter()
            .any(|r| r.action == "template_used"),
        "nothing recorded as used"
    );
    let durand_uses = app
        .audit_of(DURAND)
        .await
        .into_iter()
        .filter(|r| r.action == "template_used")
        .count();
    assert_eq!(durand_uses, 1);
}

#[tokio::test]
async fn a_send_frame_cites_its_template_and_a_refused_one_leaves_the_socket_up() {
    let app = spawn_app().await;
    let (emma, martin) = (app.login(EMMA).await, app.login(MARTIN).await);
    let id = app.only_conversation(&emma).await.id;
    let template = create(&app, &martin, "Rendez-vous", false).await;
    let mut socket = app.socket(&martin).await;
    let frame = |template_id| ClientFrame::Send {
        conversation_id: id,
        client_id: new_client_id(),
        body: "Votre rendez-vous est confirmé.".into(),
        urgent: false,
        attachment_ids: Vec::new(),
        template_id: Some(template_id),
    };

    socket.send(&frame(TemplateId(424_242))).await;
    let (code, client_id) = socket.next_error().await;
    assert_eq!(code, ErrorCode::UnknownReference);
    assert!(client_id.is_some());

    let cited = frame(template.id);
    socket.send(&cited).await;
    let message = loop {
        match socket.next_frame().await {
            ServerFrame::Ack { message, .. } => break message,
            ServerFrame::Conversation { .. } => {}
            other => panic!("expected the ack, got {other:?}"),
        }
    };
    assert_eq!(template_of(&app, message.id).await, Some(template.id));
    // Its replay is answered with the same message and records nothing twice.
    socket.send(&cited).await;
    loop {
        match socket.next_frame().await {
            ServerFrame::Ack { message: again, .. } => {
                assert_eq!(again.id, message.id);
                break;
            }
            ServerFrame::Conversation { .. } => {}
            other => panic!("expected the ack, got {other:?}"),
        }
    }
    let uses = app
        .audit_of(MARTIN)
        .await
        .into_iter()
        .filter(|r| r.action == "template_used")
        .count();
    assert_eq!(uses, 1);
}
