//! The audit trail of a cluster is one hash chain: the instances append at once, each under
//! the chain head's row lock, and `audit-verify` walks the whole of it.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_appending_at_once_keep_one_audit_chain() {
    let cluster = start(3, false, &[]).await;
    let ports = cluster.ports();
    let users = [
        login(ports[0], EMMA).await,
        login(ports[1], LUCAS).await,
        login(ports[2], MARTIN).await,
    ];

    // 120 audited reads at once, round-robin over the instances.
    let reads = (0..120).map(|n| {
        let (port, user) = (ports[n % ports.len()], &users[n % users.len()]);
        http()
            .get(format!("{}/api/conversations", base(port)))
            .bearer_auth(&user.token)
            .send()
    });
    for response in futures_util::future::join_all(reads).await {
        assert_eq!(response.expect("a read").status(), 200);
    }
    let scratch = tempfile::tempdir().unwrap();
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_colloque-server"))
        .args(["audit-verify", "--database-url", &cluster.database_url()])
        .arg("--data-dir")
        .arg(scratch.path())
        .output()
        .expect("audit-verify runs");

    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{verified:?}");
    assert!(
        stdout.starts_with("OK: 123 rows chained"),
        "3 logins and 120 reads, from three instances, in one chain: {stdout}"
    );
}
