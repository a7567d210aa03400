//! End to end through a cluster: the release app served by three `colloque-server` processes
//! on a private PostgreSQL and NATS, behind nginx (round-robin, no sticky sessions), in
//! headless Chromium. Each request and each socket may land on any instance; the instances are
//! killed one after the other while the patient writes, and the doctor still sees every
//! message, once, in order.
//!
//! Run it through `cargo xtask test` (it builds the app and the server, and installs
//! PostgreSQL, nats-server, nginx and the browser).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use support::E2e;

const PATIENT: &str = "lucas.bernard@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_works_through_a_cluster_and_each_instance_can_die_under_it() {
    let (e2e, mut cluster) = E2e::start_cluster("cluster").await;
    let _logs = KeepLogsOnFailure::of(&cluster, e2e.out_dir());
    let patient = e2e.browser(390, 844).await;
    let doctor = e2e.browser(1280, 900).await;

    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/messages").await;
    doctor.wait_testid("conversation-list").await;
    patient.login(PATIENT).await;
    patient
        .open_conversation_from_appointment("Claire Martin")
        .await;
    let first = "Bonjour docteur, une question sur mon traitement.";
    patient.write(first).await;
    patient.wait_message("sent", first).await;

    let item = doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Lucas Bernard")
        .await;
    item.click().await.expect("open the conversation");
    doctor
        .wait_for_element_containing("[data-testid='message-body']", first)
        .await;
    let reply = "Bonjour, dites-m'en plus.";
    doctor.write(reply).await;
    patient
        .wait_for_element_containing("[data-testid='message-body']", reply)
        .await;
    patient
        .screenshot("1-patient-reply-through-the-cluster")
        .await;

    // Each instance in turn is killed (SIGKILL) while the patient writes: her socket, or
    // the doctor's, or neither, was on it. The apps reconnect through nginx to the others.
    let mut written = vec![first.to_owned()];
    for instance in 0..cluster.instances.len() {
        cluster.instances[instance].kill9().expect("SIGKILL");
        let text = format!(
            "Message écrit pendant la panne de l'instance {}.",
            instance + 1
        );
        patient.write(&text).await;
        patient.wait_message("sent", &text).await;
        doctor
            .wait_for_element_containing("[data-testid='message-body']", &text)
            .await;
        written.push(text);
        let restarted = tokio::task::block_in_place(|| cluster.instances[instance].restart());
        restarted.expect("the instance starts again");
    }
    doctor.screenshot("2-doctor-every-message-once").await;

    let shown = doctor.texts("[data-testid='message-body']").await;
    for text in &written {
        let count = shown
            .iter()
            .filter(|shown| shown.contains(text.as_str()))
            .count();
        assert_eq!(count, 1, "{text:?} shown once to the doctor");
    }
    let positions: Vec<usize> = written
        .iter()
        .map(|text| {
            shown
                .iter()
                .position(|s| s.contains(text.as_str()))
                .unwrap()
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "in the order written"
    );
    patient.close().await;
    doctor.close().await;
}

/// On a failure, copies the instances' logs and nginx's access log (which instance answered
/// each request, and with what status) next to the screenshots, before the cluster's scratch
/// directories go.
struct KeepLogsOnFailure(std::path::PathBuf, Vec<(String, std::path::PathBuf)>);

impl KeepLogsOnFailure {
    fn of(cluster: &colloque_testbed::Cluster, out: &std::path::Path) -> Self {
        let mut logs: Vec<(String, std::path::PathBuf)> = cluster
            .instances
            .iter()
            .map(|i| (format!("instance-{}.log", i.number()), i.log_path()))
            .collect();
        if let Some(nginx) = &cluster.nginx {
            logs.push(("nginx-access.log".into(), nginx.access_log_path()));
            logs.push(("nginx-error.log".into(), nginx.log_path()));
        }
        KeepLogsOnFailure(out.join("cluster-logs"), logs)
    }
}

impl Drop for KeepLogsOnFailure {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let out = &self.0;
        let _ = std::fs::create_dir_all(out);
        for (name, path) in &self.1 {
            if std::fs::copy(path, out.join(name)).is_ok() {
                eprintln!("kept {}", out.join(name).display());
            }
        }
    }
}
