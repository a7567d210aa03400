//! Sessions across instances (issue 10): a session ended from the sessions page on one instance
//! loses its sockets on the others through the bus, and one credential refreshed on two
//! instances at once is rotated once (the session's row is locked), with no false alarm.

use crate::harness::*;
use std::time::{Duration, Instant};

/// The instances' own periodic check is set to a minute: only the bus can close the sockets
/// within the test's wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_a_session_on_one_instance_closes_its_sockets_on_the_others() {
    let cluster = start(3, false, &[("COLLOQUE_REVOCATION_CHECK_MS", "60000")]).await;
    let ports = cluster.ports();
    let laptop = login(ports[0], EMMA).await;
    let phone = login(ports[0], EMMA).await;
    let mut phone_on_2 = Socket::open(ports[1], &phone).await;
    let mut phone_on_3 = Socket::open(ports[2], &phone).await;
    let mut laptop_on_2 = Socket::open(ports[1], &laptop).await;

    let started = Instant::now();
    let response = http()
        .post(format!(
            "{}/api/sessions/{}/end",
            base(ports[0]),
            phone.handle
        ))
        .bearer_auth(&laptop.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    for (name, socket) in [
        ("instance 2", &mut phone_on_2),
        ("instance 3", &mut phone_on_3),
    ] {
        socket.assert_session_ended(name).await;
    }
    println!(
        "session ended on instance 1: its sockets on instances 2 and 3 closed {} ms later",
        started.elapsed().as_millis()
    );
    assert!(
        matches!(
            laptop_on_2.next(Duration::from_millis(500)).await,
            Seen::Nothing
        ),
        "the session that ended the other stays open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_credential_refreshed_on_two_instances_at_once_is_rotated_once_without_an_alarm() {
    let cluster = start(2, false, &[]).await;
    let ports = cluster.ports();
    let emma = login(ports[0], EMMA).await;

    let (first, second) = tokio::join!(refresh(ports[0], &emma), refresh(ports[1], &emma));

    let (first, second) = (user_from(first).await, user_from(second).await);
    for (name, user) in [("first", &first), ("second", &second)] {
        let me = http()
            .get(format!("{}/api/me", base(ports[1])))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200, "{name}");
    }
    // The one rotation moved the session one generation on: both answers' tokens are of it,
    // and the credentials both answers gave are current siblings.
    let next = user_from(refresh(ports[1], &second).await).await;
    assert_eq!(refresh(ports[0], &next).await.status(), 200);
}
