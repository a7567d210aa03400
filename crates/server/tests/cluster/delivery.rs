//! Delivery across instances: a message stored through one instance is pushed on the sockets
//! held by the others, with the bus up, down, frozen, or silent; and a logout on one instance
//! closes the sockets held by the others.

use crate::harness::*;
use colloque_protocol::Message;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_through_instance_1_reaches_the_sockets_on_instances_2_and_3() {
    let cluster = start(3, false, &[]).await;
    let ports = cluster.ports();
    let emma = login(ports[0], EMMA).await;
    let martin = login(ports[1], MARTIN).await;
    let conversation = only_conversation(ports[0], &emma).await.id;
    let mut emma_on_1 = Socket::open(ports[0], &emma).await;
    let mut martin_on_2 = Socket::open(ports[1], &martin).await;
    let mut martin_on_3 = Socket::open(ports[2], &martin).await;
    let mut emma_on_3 = Socket::open(ports[2], &emma).await;

    let mut sent: Vec<Message> = Vec::new();
    for n in 0..50 {
        sent.push(
            emma_on_1
                .send_and_ack(conversation, &format!("message {n}"))
                .await,
        );
    }

    for (who, socket) in [
        ("martin on 2", &mut martin_on_2),
        ("martin on 3", &mut martin_on_3),
        ("emma's other tab on 3", &mut emma_on_3),
    ] {
        let pushed = socket.messages(conversation, sent.len()).await;
        assert_same_in_order(who, &pushed, &sent);
        assert!(
            matches!(socket.next(Duration::from_millis(300)).await, Seen::Nothing),
            "{who}: nothing pushed twice"
        );
    }
    let stored = read_all(ports[2], &martin, conversation).await;
    assert_eq!(&stored[stored.len() - sent.len()..], &sent[..]);
}

/// NATS stopped (`kill -9`) or frozen (`SIGSTOP`) during 200 sends: every send is stored and
/// acked, the instance says `degraded` once it notices, and the sweep pushes everything to the
/// socket on the other instance, in order; with NATS back, pushes resume.
async fn delivery_survives_the_bus(freeze: bool) {
    let mut cluster = start(2, false, &[]).await;
    let ports = cluster.ports();
    let emma = login(ports[0], EMMA).await;
    let martin = login(ports[1], MARTIN).await;
    let conversation = only_conversation(ports[0], &emma).await.id;
    let mut martin_on_2 = Socket::open(ports[1], &martin).await;
    // Pushes flow before the outage.
    let before = send(ports[0], &emma, conversation, new_client_id(), "avant")
        .await
        .expect("stored");
    assert_same_in_order(
        "before",
        &martin_on_2.messages(conversation, 1).await,
        &[before],
    );

    if freeze {
        cluster.nats.pause().expect("SIGSTOP");
    } else {
        cluster.nats.stop().expect("NATS stopped");
        eventually("instance 1 says degraded", || async {
            health(ports[0]).await == (200, "degraded".to_owned())
        })
        .await;
    }
    let started = Instant::now();
    let mut sent = Vec::new();
    for n in 0..200 {
        let message = send(
            ports[0],
            &emma,
            conversation,
            new_client_id(),
            &format!("pendant {n}"),
        )
        .await
        .expect("stored and acked while the bus is out");
        sent.push(message);
    }
    let pushed = martin_on_2.messages(conversation, sent.len()).await;
    println!(
        "bus {}: 200 sends delivered across instances {:.2} s after the first send",
        if freeze { "frozen" } else { "down" },
        started.elapsed().as_secs_f64()
    );
    assert_same_in_order("during the outage", &pushed, &sent);

    if freeze {
        cluster.nats.resume().expect("SIGCONT");
    } else {
        cluster.nats.start_again().expect("NATS back");
    }
    eventually("both instances say ok", || async {
        health(ports[0]).await == (200, "ok".to_owned())
            && health(ports[1]).await == (200, "ok".to_owned())
    })
    .await;
    let after = send(ports[0], &emma, conversation, new_client_id(), "après")
        .await
        .expect("stored");
    assert_same_in_order(
        "after",
        &martin_on_2.messages(conversation, 1).await,
        &[after],
    );
    assert!(matches!(
        martin_on_2.next(Duration::from_millis(300)).await,
        Seen::Nothing
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_stopped_during_200_sends_everything_arrives_through_the_sweep() {
    delivery_survives_the_bus(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_frozen_during_200_sends_everything_arrives_through_the_sweep() {
    delivery_survives_the_bus(true).await;
}

/// Instance 1 commits and never tells anyone (a test hook drops every wake-up it would
/// publish): the sweep of instance 2 still delivers, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_up_lost_after_commit_is_delivered_by_the_sweep() {
    let mut cluster = start(2, false, &[]).await;
    // Instance 1 alone runs with the hook.
    cluster.instances[0].stop().expect("instance 1 stops");
    cluster.instances[0]
        .restart_with_env(&[("COLLOQUE_FAULT_DROP_WAKEUPS", "true")])
        .expect("instance 1 restarts with the hook");
    let ports_now = cluster.ports();
    let emma = login(ports_now[0], EMMA).await;
    let martin = login(ports_now[1], MARTIN).await;
    let conversation = only_conversation(ports_now[0], &emma).await.id;
    let mut martin_on_2 = Socket::open(ports_now[1], &martin).await;

    let mut sent = Vec::new();
    for n in 0..20 {
        sent.push(
            send(
                ports_now[0],
                &emma,
                conversation,
                new_client_id(),
                &format!("n {n}"),
            )
            .await
            .expect("stored"),
        );
    }

    let pushed = martin_on_2.messages(conversation, sent.len()).await;
    assert_same_in_order("through the sweep", &pushed, &sent);
    let log = std::fs::read_to_string(cluster.instances[1].log_path()).unwrap();
    assert!(
        log.contains("the sweep found undelivered messages"),
        "instance 2 delivered through its sweep"
    );
}

/// A logout on instance 1 closes the session's sockets on instances 2 and 3 through the bus:
/// the instances' own periodic check is set to a minute here, so only the bus can do it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_closes_the_sockets_on_the_others() {
    let cluster = start(3, false, &[("COLLOQUE_REVOCATION_CHECK_MS", "60000")]).await;
    let ports = cluster.ports();
    let emma = login(ports[0], EMMA).await;
    let other_session = login(ports[0], EMMA).await;
    let mut on_2 = Socket::open(ports[1], &emma).await;
    let mut on_3 = Socket::open(ports[2], &emma).await;
    let mut other_on_2 = Socket::open(ports[1], &other_session).await;

    let started = Instant::now();
    let response = http()
        .post(format!("{}/api/auth/logout", base(ports[0])))
        .bearer_auth(&emma.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    for (name, socket) in [("instance 2", &mut on_2), ("instance 3", &mut on_3)] {
        socket.assert_session_ended(name).await;
    }
    println!(
        "logout on instance 1: sockets on instances 2 and 3 closed {} ms later",
        started.elapsed().as_millis()
    );
    assert!(
        matches!(
            other_on_2.next(Duration::from_millis(500)).await,
            Seen::Nothing
        ),
        "another session of the same user stays open"
    );
}
