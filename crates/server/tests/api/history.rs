use crate::helpers::*;
use colloque_protocol::{ConversationSummary, Message, MessagePage};
use serde_json::Value;

/// Lucas–Martin with `count` messages from alternating senders; returns their conversation.
async fn conversation_with(app: &TestApp, count: usize) -> (Session, ConversationSummary) {
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    let conversation: ConversationSummary = app
        .start_conversation(&lucas, martin.id)
        .await
        .json()
        .await
        .unwrap();
    for n in 1..=count {
        let sender = if n % 2 == 0 { &martin } else { &lucas };
        app.send_ok(sender, conversation.id, &format!("message {n}"))
            .await;
    }
    (lucas, conversation)
}

fn assert_ascending_and_complete(messages: &[Message], count: usize) {
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq.0).collect();
    let expected: Vec<i64> = (1..=count as i64).collect();
    assert_eq!(seqs, expected, "every message exactly once, in order");
    for message in messages {
        assert_eq!(message.body, format!("message {}", message.seq.0));
    }
}

#[tokio::test]
async fn paging_backwards_returns_every_message_exactly_once_in_order() {
    let app = spawn_app_unthrottled().await;
    let (lucas, conversation) = conversation_with(&app, 237).await;

    let mut pages = Vec::new();
    let mut page = app.history(&lucas, conversation.id, "?limit=50").await;
    loop {
        assert!(page.messages.windows(2).all(|w| w[0].seq < w[1].seq));
        let oldest = page.messages.first().map(|m| m.seq.0);
        let has_more = page.has_more;
        pages.push(page.messages);
        if !has_more {
            break;
        }
        page = app
            .history(
                &lucas,
                conversation.id,
                &format!("?before={}&limit=50", oldest.unwrap()),
            )
            .await;
    }

    assert_eq!(pages.len(), 5);
    assert_eq!(pages.last().unwrap().len(), 37);
    let all: Vec<Message> = pages.into_iter().rev().flatten().collect();
    assert_ascending_and_complete(&all, 237);
}

#[tokio::test]
async fn paging_forwards_with_after_returns_every_message_exactly_once_in_order() {
    let app = spawn_app_unthrottled().await;
    let (lucas, conversation) = conversation_with(&app, 237).await;

    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .history(&lucas, conversation.id, &format!("?after={after}&limit=50"))
            .await;
        after = page.messages.last().map_or(after, |m| m.seq.0);
        all.extend(page.messages);
        if !page.has_more {
            break;
        }
    }

    assert_ascending_and_complete(&all, 237);
}

#[tokio::test]
async fn the_latest_page_defaults_to_fifty_and_limits_are_clamped() {
    let app = spawn_app_unthrottled().await;
    let (lucas, conversation) = conversation_with(&app, 120).await;

    let latest = app.history(&lucas, conversation.id, "").await;
    let huge = app.history(&lucas, conversation.id, "?limit=1000").await;
    let zero = app.history(&lucas, conversation.id, "?limit=0").await;
    let caught_up = app.history(&lucas, conversation.id, "?after=120").await;

    assert_eq!(latest.messages.len(), 50);
    assert_eq!(latest.messages.last().unwrap().seq.0, 120);
    assert!(latest.has_more);
    assert_eq!(huge.messages.len(), 100);
    assert_eq!(zero.messages.len(), 1);
    assert!(caught_up.messages.is_empty());
    assert!(!caught_up.has_more);
}

#[tokio::test]
async fn before_and_after_together_give_the_messages_between_and_garbage_is_refused() {
    let app = spawn_app_unthrottled().await;
    let (lucas, conversation) = conversation_with(&app, 6).await;
    let get = |query: &str| {
        let path = format!("/api/conversations/{}/messages?{query}", conversation.id);
        let app = &app;
        let token = lucas.token.clone();
        async move { app.get(&path, &token).await }
    };

    let between: MessagePage = get("after=1&before=6&limit=3").await.json().await.unwrap();
    let rest: MessagePage = get("after=4&before=6").await.json().await.unwrap();
    let empty: MessagePage = get("after=4&before=2").await.json().await.unwrap();
    let garbage = get("before=abc").await;

    let seqs = |page: &MessagePage| page.messages.iter().map(|m| m.seq.0).collect::<Vec<_>>();
    assert_eq!(seqs(&between), [2, 3, 4]);
    assert!(between.has_more, "5 is between too");
    assert_eq!(seqs(&rest), [5]);
    assert!(!rest.has_more);
    assert!(seqs(&empty).is_empty());
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(error_code(&body), "invalid_input");
}

#[tokio::test]
async fn a_client_that_missed_a_thousand_messages_catches_up_exactly_once_in_order() {
    let app = spawn_app_unthrottled().await;
    let (lucas, conversation) = conversation_with(&app, 1_000).await;

    // The client knew nothing after seq 0; it pages with `after` until `has_more` is false.
    let started = std::time::Instant::now();
    let mut caught_up = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .history(
                &lucas,
                conversation.id,
                &format!("?after={after}&limit=100"),
            )
            .await;
        after = page.messages.last().map_or(after, |message| message.seq.0);
        caught_up.extend(page.messages);
        if !page.has_more {
            break;
        }
    }
    let elapsed = started.elapsed();

    assert_ascending_and_complete(&caught_up, 1_000);
    println!("caught up 1000 missed messages in {elapsed:?}");
}

#[tokio::test]
async fn a_cursor_past_the_last_message_is_a_conflict_with_the_servers_state() {
    let app = spawn_app().await;
    let (lucas, conversation) = conversation_with(&app, 3).await;

    let at_end = app
        .get(
            &format!("/api/conversations/{}/messages?after=3", conversation.id),
            &lucas.token,
        )
        .await;
    let past_end = app
        .get(
            &format!("/api/conversations/{}/messages?after=4", conversation.id),
            &lucas.token,
        )
        .await;

    assert_eq!(at_end.status(), 200);
    // Well formed, so not a 400: the client's state does not match the server's.
    assert_eq!(past_end.status(), 409);
    assert_eq!(
        error_code(&past_end.json::<Value>().await.unwrap()),
        "invalid_cursor"
    );
}
