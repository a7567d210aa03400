//! Login throttling holds over the instances of a cluster: its state is in PostgreSQL, so three
//! instances behind a round-robin proxy do not triple a limit.

use crate::harness::*;

async fn post_login(port: u16, email: &str, password: &str) -> reqwest::Response {
    http()
        .post(format!("{}/api/auth/login", base(port)))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_spread_over_three_instances_get_one_instances_limit_of_checks() {
    let cluster = start(3, false, &[]).await;
    let ports = cluster.ports();

    // Sixty wrong passwords for Emma from one address, at once, round-robin over the
    // instances: with a throttle per instance, each would check five (fifteen in all).
    let guesses = (0..60).map(|n| post_login(ports[n % ports.len()], EMMA, "wrong password"));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();

    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, throttled),
        (5, 55),
        "the limit of password checks (5 per account and address) over the cluster: {statuses:?}"
    );
    // Then every instance refuses, even the right password, and says when to come back.
    for &port in &ports {
        let response = post_login(port, EMMA, PASSWORD).await;
        assert_eq!(response.status(), 429, "instance on {port}");
        assert!(response.headers().contains_key("retry-after"));
    }
    // Another account from the same address is not locked out, on any instance.
    for &port in &ports {
        login(port, LUCAS).await;
    }
}
