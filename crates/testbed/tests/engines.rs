//! The engines start, answer, and survive what the cluster tests do to them.

use colloque_testbed::{Nats, Postgres, PostgresOptions, wait_for_port};
use std::time::Duration;

#[test]
fn a_private_postgres_answers_and_comes_back_after_an_immediate_restart() {
    let mut postgres = Postgres::start(PostgresOptions::default()).unwrap();
    postgres.create_database("kept").unwrap();
    postgres
        .psql("kept", "CREATE TABLE t (n INT); INSERT INTO t VALUES (42)")
        .unwrap();

    postgres.restart_immediate().unwrap();

    assert_eq!(
        postgres.psql("kept", "SELECT n FROM t").unwrap().trim(),
        "42"
    );
}

#[test]
fn nats_can_be_stopped_paused_and_started_again_on_its_port() {
    let mut nats = Nats::start().unwrap();
    let port = nats.port();
    nats.pause().unwrap();
    nats.resume().unwrap();
    nats.stop().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    nats.start_again().unwrap();

    wait_for_port(port, Duration::from_secs(5)).unwrap();
}
