//! The OpenAPI document tells the truth: what the contract tester (schemathesis, in
//! `cargo xtask test`) found, each as a test of the server, and the document's promises.

use crate::helpers::*;
use colloque_protocol::{
    ConversationSummary, IntakeSettings, MAX_CLOSE_REASON_CHARS, MAX_INTAKE_MONTHS,
    MAX_MESSAGE_CHARS, Message, TriageState,
};
use serde_json::{Value, json};
use std::collections::HashSet;

#[tokio::test]
async fn the_longest_message_escaped_as_ascii_json_is_stored() {
    // 10,000 characters outside the BMP, each written `\ud83d\ude00` as Python's and other
    // clients' JSON encoders write them by default: 120 kB for a message the document allows.
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let escaped = r"\ud83d\ude00".repeat(MAX_MESSAGE_CHARS);
    let body = format!(
        r#"{{"client_id": "{}", "body": "{escaped}"}}"#,
        new_client_id().0
    );

    let response = app
        .client
        .post(app.url(&format!("/api/conversations/{}/messages", conversation.id)))
        .bearer_auth(&emma.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let stored: Message = response.json().await.unwrap();
    assert_eq!(stored.body, "😀".repeat(MAX_MESSAGE_CHARS));
}

#[tokio::test]
async fn a_client_id_reused_in_another_conversation_is_a_conflict_and_stores_nothing() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    let with_durand = app.only_conversation(&lucas).await;
    let with_martin: ConversationSummary = app
        .start_conversation(&lucas, martin.id)
        .await
        .json()
        .await
        .unwrap();
    let client_id = new_client_id();
    let first = app
        .send_message(&lucas, with_durand.id, client_id, "Bonjour")
        .await;
    assert_eq!(first.status(), 201);

    let reused = app
        .send_message(&lucas, with_martin.id, client_id, "Bonjour")
        .await;

    // Well formed, so not a 400: it conflicts with a message already stored.
    assert_eq!(reused.status(), 409);
    assert_eq!(
        error_code(&reused.json::<Value>().await.unwrap()),
        "invalid_input"
    );
    assert_eq!(app.last_seq(&lucas, with_martin.id).await, 0);
}

#[tokio::test]
async fn history_refuses_a_field_it_does_not_know() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let path = |query: &str| format!("/api/conversations/{}/messages?{query}", conversation.id);

    let typo = app.get(&path("befor=2"), &emma.token).await;
    let known = app.get(&path("before=2&limit=5"), &emma.token).await;

    assert_eq!(typo.status(), 400);
    assert_eq!(
        error_code(&typo.json::<Value>().await.unwrap()),
        "invalid_input"
    );
    assert_eq!(known.status(), 200);
}

#[tokio::test]
async fn a_nul_character_is_refused_before_it_reaches_the_database() {
    // PostgreSQL's text cannot hold one: it would be a 500 there (this file runs on both).
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;

    let login = app
        .post_login(
            "emma.petit\u{0}@colloque.test",
            colloque_server::DEMO_PASSWORD,
        )
        .await;
    let sent = app
        .send_message(&emma, conversation.id, new_client_id(), "a\u{0}b")
        .await;
    let started = app
        .post(
            "/api/conversations",
            &emma.token,
            &json!({"with_user_id": 1, "subject": "a\u{0}b", "topic": "medical_question"}),
        )
        .await;

    assert_eq!(login.status(), 401);
    assert_eq!(sent.status(), 400);
    assert_eq!(
        error_code(&sent.json::<Value>().await.unwrap()),
        "invalid_input"
    );
    assert_eq!(started.status(), 400);
    assert_eq!(app.last_seq(&emma, conversation.id).await, 3);
}

#[tokio::test]
async fn the_care_requests_take_what_the_document_allows_and_refuse_the_rest() {
    // What schemathesis sent: values the generated document allowed but the server refused.
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let triage = async |state: &str| {
        app.post(
            &format!("/api/conversations/{id}/triage"),
            &martin.token,
            &json!({"state": state}),
        )
        .await
    };
    let close = async |reason: &str| {
        app.post(
            &format!("/api/conversations/{id}/close"),
            &martin.token,
            &json!({"reason": reason}),
        )
        .await
    };

    // A look-back written `6.0` is the integer 6 for JSON Schema.
    let set = app
        .put(
            "/api/me/intake",
            &martin.token,
            &json!({"mode": "recent_patients", "months": 6.0}),
        )
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(set.json::<IntakeSettings>().await.unwrap().months, 6);
    // `done` is not an open state (the document's enum leaves it out); blank is not a reason.
    let done = triage("done").await;
    assert_eq!(done.status(), 400);
    assert_eq!(
        error_code(&done.json::<Value>().await.unwrap()),
        "invalid_input"
    );
    assert_eq!(triage("waiting_patient").await.status(), 200);
    assert_eq!(close(" \n\t").await.status(), 400);
    assert_eq!(close("a\u{7}b").await.status(), 400);
    // Trimmed, line breaks and tabs inside: a reason.
    let closed = close("\n Résultats normaux.\n\tÀ revoir dans un an. ").await;
    assert_eq!(closed.status(), 200);
    let closed: ConversationSummary = closed.json().await.unwrap();
    assert_eq!(closed.triage, TriageState::Done);
}

/// Every operation of the served document, with its path and method.
/// Schemathesis's stateful run (the landing run of 2026-12-07): a doctor's send to a
/// conversation, then another to the same one citing a template of no one's. The second used to
/// answer `404`, which said "this conversation is gone" right after it took a message; an id in
/// the body that names nothing usable is `422 unknown_reference`, and nothing is stored.
#[tokio::test]
async fn a_send_citing_a_template_of_no_ones_is_unprocessable_not_a_missing_conversation() {
    let app = spawn_app().await;
    let (emma, martin) = (app.login(EMMA).await, app.login(MARTIN).await);
    let conversation = app.only_conversation(&emma).await;
    let path = format!("/api/conversations/{}/messages", conversation.id);
    let first = app
        .send_message(&martin, conversation.id, new_client_id(), "Bonjour")
        .await;
    assert_eq!(first.status(), 201);
    let head = app.last_seq(&martin, conversation.id).await;

    for citing in [
        json!({"client_id": new_client_id().0, "body": "#", "template_id": 7035}),
        json!({"client_id": new_client_id().0, "body": "#",
               "attachment_ids": [uuid::Uuid::new_v4()]}),
    ] {
        let response = app.post(&path, &martin.token, &citing).await;
        assert_eq!(response.status(), 422, "{citing}");
        assert_eq!(
            error_code(&response.json::<Value>().await.unwrap()),
            "unknown_reference"
        );
    }
    assert_eq!(app.last_seq(&martin, conversation.id).await, head);
    // The conversation the path names is there, and still takes messages.
    let again = app
        .send_message(&martin, conversation.id, new_client_id(), "Bonjour")
        .await;
    assert_eq!(again.status(), 201);
}

fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                found.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn the_openapi_document_lists_every_answer_a_route_shares_and_the_accepted_values() {
    let app = spawn_app().await;
    let document: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut ids = HashSet::new();
    for (path, method, operation) in operations(&document) {
        let route = format!("{method} {path}");
        let answers = operation["responses"].as_object().unwrap();
        let has = |status: &str| answers.contains_key(status);
        assert!(
            ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
            "{route}: operation ids are unique"
        );
        assert!(has("500"), "{route}");
        if operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
        {
            assert!(has("401") && has("429") && has("503"), "{route}");
        }
        if operation.get("requestBody").is_some() {
            assert!(has("400") && has("413") && has("415"), "{route}");
        }
        if path.contains('{') {
            assert!(has("400") && has("404"), "{route}");
        }
        for (status, answer) in answers {
            if status.starts_with('4') {
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ApiError",
                    "{route} {status}"
                );
            }
        }
    }
    assert!(ids.len() >= 19, "every route: {ids:?}");

    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["Seq"]["minimum"], 0);
    assert!(
        schemas["SendMessageRequest"]["properties"]["body"]["pattern"]
            .as_str()
            .unwrap()
            .contains(&format!("{{0,{}}}", MAX_MESSAGE_CHARS - 2))
    );
    assert!(
        schemas["CloseConversationRequest"]["properties"]["reason"]["pattern"]
            .as_str()
            .unwrap()
            .contains(&format!("{{0,{}}}", MAX_CLOSE_REASON_CHARS - 2))
    );
    let months = &schemas["UpdateIntakeRequest"]["properties"]["months"];
    assert_eq!(months["minimum"], 1);
    assert_eq!(months["maximum"], MAX_INTAKE_MONTHS);
    assert_eq!(
        schemas["SetTriageRequest"]["properties"]["state"]["enum"],
        json!(["new", "in_progress", "waiting_patient"])
    );
    let history = &document["paths"]["/api/conversations/{id}/messages"]["get"];
    for parameter in history["parameters"].as_array().unwrap() {
        if parameter["in"] == "query" {
            assert_eq!(parameter["schema"]["minimum"], 0, "{parameter}");
        }
    }
    for (path, method) in [
        ("/api/conversations/{id}/messages", "post"),
        ("/api/me/absences", "post"),
    ] {
        assert!(
            document["paths"][path][method]["responses"]["422"]["description"]
                .as_str()
                .is_some_and(|text| text.contains("unknown_reference")),
            "{method} {path}"
        );
    }
    let created = &document["paths"]["/api/conversations"]["post"]["responses"]["201"];
    assert_eq!(
        created["links"]["GetConversation"]["operationId"],
        "get_conversations_id"
    );
    assert_eq!(
        created["links"]["Triage"]["operationId"],
        "post_conversations_id_triage"
    );
}
