//! Programmatic shutdown, and a restart on the same port and data directory.

use crate::helpers::*;
use colloque_server::{Application, Config};
use secrecy::SecretString;
use std::time::Duration;

#[tokio::test]
async fn the_shutdown_handle_closes_sockets_with_1001_and_the_port_can_be_bound_again() {
    let mut app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let sent = app.send_ok(&emma, conversation.id, "avant l'arrêt").await;
    let mut socket = app.socket(&emma).await;

    app.shutdown.trigger();

    assert_eq!(socket.closed_with().await, Some(1001));
    tokio::time::timeout(Duration::from_secs(10), &mut app.server)
        .await
        .expect("run_until_stopped returned in time")
        .unwrap()
        .unwrap();

    // Same port, same data directory, at once.
    let config = Config {
        bind: ([127, 0, 0, 1], app.port).into(),
        jwt_secret: Some(SecretString::from(TEST_SECRET)),
        database_url: Some(app.database_url.clone()),
        ..Config::for_tests(app.data_dir.path().to_path_buf())
    };
    let restarted = Application::build(config).await.expect("rebinds the port");
    assert_eq!(restarted.port(), app.port);
    let handle = restarted.shutdown_handle();
    let server = tokio::spawn(restarted.run_until_stopped());
    // The old token is still valid: sessions live in the database.
    let page = app.history(&emma, conversation.id, "").await;
    assert_eq!(page.messages.last().unwrap().id, sent.id);

    handle.trigger();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stopped in time")
        .unwrap()
        .unwrap();
}
