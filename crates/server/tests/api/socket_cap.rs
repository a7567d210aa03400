//! The per-user socket cap: a user who opens socket after socket (a script, a tab storm) holds
//! at most `Limits::ws_sockets_per_user` (10) on an instance; each one past it closes their
//! oldest, with an error frame that tells the app not to reconnect by itself.

use crate::helpers::*;
use colloque_protocol::{ErrorCode, ServerFrame};

#[tokio::test]
async fn an_eleventh_socket_of_one_user_closes_the_oldest() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let mut doctors = app.socket(&martin).await;
    let mut tabs = Vec::new();
    for _ in 0..10 {
        tabs.push(app.socket(&emma).await);
    }
    for tab in &mut tabs {
        tab.assert_nothing_pending().await;
    }

    let mut eleventh = app.socket(&emma).await;

    let mut oldest = tabs.remove(0);
    assert_eq!(
        oldest.next_error().await,
        (ErrorCode::TooManySockets, None),
        "told why, so that the app does not reconnect by itself"
    );
    assert_eq!(oldest.closed_with().await, Some(1008));
    for tab in tabs.iter_mut().chain([&mut eleventh]) {
        tab.assert_nothing_pending().await;
    }
    // The cap is the user's own: the doctor's socket is untouched, and the newest of hers
    // gets what he writes.
    doctors.assert_nothing_pending().await;
    let conversation = app.only_conversation(&martin).await;
    let sent = app.send_ok(&martin, conversation.id, "Bonjour Emma").await;
    match eleventh.next_frame().await {
        ServerFrame::Message { message } => assert_eq!(message.id, sent.id),
        other => panic!("expected the doctor's message, got {other:?}"),
    }
}

#[tokio::test]
async fn each_socket_past_the_cap_closes_the_next_oldest() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let mut tabs = Vec::new();
    for _ in 0..10 {
        tabs.push(app.socket(&emma).await);
    }

    let _eleventh = app.socket(&emma).await;
    let _twelfth = app.socket(&emma).await;

    // Oldest first, one each: the first two tabs, and no other.
    for mut closed in tabs.drain(..2) {
        assert_eq!(closed.next_error().await.0, ErrorCode::TooManySockets);
        assert_eq!(closed.closed_with().await, Some(1008));
    }
    for tab in &mut tabs {
        tab.assert_nothing_pending().await;
    }
}
