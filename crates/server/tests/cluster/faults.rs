//! The chaos run against a cluster: a patient and a doctor exchange messages through nginx
//! (each connection lands on any of the three instances), while instances are killed with
//! SIGKILL, NATS is stopped and PostgreSQL restarted in immediate mode. The chaos test's
//! client (outbox, retries with the same client id, reconnection, catch-up) and its
//! Jepsen-style checker (tests/chaos) judge the run: nothing lost, duplicated or reordered.
//!
//! `cargo xtask chaos --cluster` runs [`cluster_chaos`] with 10,000 messages; the variables
//! are the chaos test's (`CHAOS_MESSAGES`, `CHAOS_KILLS`, `CHAOS_SEED`, `CHAOS_WINDOW`,
//! `CHAOS_DEADLINE_SECS`) plus `CHAOS_NATS_OUTAGES` and `CHAOS_PG_RESTARTS`.

use crate::checker;
use crate::client::{Client, ClientConfig, Command, Progress};
use crate::harness;
use colloque_protocol::{ConversationId, ConversationSummary};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One fault, fired once enough messages are confirmed.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// SIGKILL this instance, keep it down this long, start it again.
    KillInstance { instance: usize, down: Duration },
    /// Stop NATS for this long.
    StopNats { down: Duration },
    /// `pg_ctl restart -m immediate`.
    RestartPostgres,
}

struct Params {
    messages: u64,
    seed: u64,
    window: usize,
    deadline: Duration,
    kills: u32,
    nats_outages: u32,
    pg_restarts: u32,
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
    )
}

impl Params {
    fn new(messages: u64, kills: u32, nats_outages: u32, pg_restarts: u32) -> Params {
        Params {
            messages,
            seed: env_number("CHAOS_SEED").unwrap_or_else(|| rand::rng().random()),
            window: env_number("CHAOS_WINDOW").unwrap_or(50usize).max(1),
            deadline: Duration::from_secs(
                env_number("CHAOS_DEADLINE_SECS").unwrap_or(90 + messages / 40),
            ),
            kills,
            nats_outages,
            pg_restarts,
        }
    }

    fn schedule(&self, instances: usize) -> Vec<(u64, Fault)> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let at = |rng: &mut StdRng| (self.messages as f64 * rng.random_range(0.1..0.9)) as u64;
        let mut faults = Vec::new();
        for _ in 0..self.kills {
            let fault = Fault::KillInstance {
                instance: rng.random_range(0..instances),
                down: Duration::from_millis(rng.random_range(200..1500)),
            };
            faults.push((at(&mut rng), fault));
        }
        for _ in 0..self.nats_outages {
            let down = Duration::from_millis(rng.random_range(1000..4000));
            faults.push((at(&mut rng), Fault::StopNats { down }));
        }
        for _ in 0..self.pg_restarts {
            faults.push((at(&mut rng), Fault::RestartPostgres));
        }
        faults.sort_by_key(|(when, _)| *when);
        faults
    }
}

struct Running {
    commands: mpsc::UnboundedSender<Command>,
    progress: Arc<Progress>,
    task: JoinHandle<Client>,
}

impl Running {
    fn start(client: Client, deadline: Instant) -> Running {
        let (commands, receiver) = mpsc::unbounded_channel();
        let progress = Arc::clone(&client.progress);
        Running {
            commands,
            progress,
            task: tokio::spawn(client.run(receiver, deadline)),
        }
    }

    async fn stop(self) -> Client {
        let _ = self.commands.send(Command::Stop);
        self.task.await.expect("the client task does not panic")
    }
}

async fn fire(cluster: &mut harness::TestCluster, fault: Fault) {
    println!("cluster chaos: {fault:?}");
    match fault {
        Fault::KillInstance { instance, down } => {
            cluster.instances[instance].kill9().expect("SIGKILL");
            // The down time is part of the fault, not a synchronisation.
            tokio::time::sleep(down).await;
            let restarted = tokio::task::block_in_place(|| cluster.instances[instance].restart());
            restarted.expect("the instance starts again");
        }
        Fault::StopNats { down } => {
            cluster.nats.stop().expect("NATS stops");
            tokio::time::sleep(down).await;
            cluster.nats.start_again().expect("NATS starts again");
        }
        Fault::RestartPostgres => {
            let restarted = tokio::task::block_in_place(|| cluster.postgres.restart_immediate());
            restarted.expect("PostgreSQL restarts");
        }
    }
}

async fn run(name: &str, params: Params) {
    let instances = 3;
    let faults = params.schedule(instances);
    println!(
        "{name}: CHAOS_SEED={} messages={} kills={} nats outages={} pg restarts={}",
        params.seed, params.messages, params.kills, params.nats_outages, params.pg_restarts
    );
    let started = Instant::now();
    let deadline = started + params.deadline;
    let mut cluster = harness::start(instances, true, &[]).await;
    let url = cluster.url();
    let ws_url = format!("{}/ws", url.replacen("http", "ws", 1));

    let config = |name, email: &str, quota, seed| ClientConfig {
        name,
        email: email.to_owned(),
        base_url: url.clone(),
        ws_url: ws_url.clone(),
        conversation: ConversationId(0),
        quota,
        window: params.window,
        seed,
    };
    let quotas = [params.messages.div_ceil(2), params.messages / 2];
    let mut patient = Client::login(
        config("patient", harness::LUCAS, quotas[0], params.seed ^ 1),
        deadline,
    )
    .await;
    let mut doctor = Client::login(
        config("doctor", harness::MARTIN, quotas[1], params.seed ^ 2),
        deadline,
    )
    .await;
    let response = harness::http()
        .post(format!("{url}/api/conversations"))
        .bearer_auth(patient.token())
        .json(&serde_json::json!({"with_user_id": doctor.user_id, "subject": "Chaos", "topic": "medical_question"}))
        .send()
        .await
        .expect("start a conversation");
    assert!(response.status().is_success(), "{}", response.status());
    let conversation: ConversationSummary = response.json().await.expect("a conversation");
    patient.config.conversation = conversation.id;
    doctor.config.conversation = conversation.id;
    // Reads the history only: no refresh (the chaos client keeps its own session).
    let reader = harness::User {
        id: patient.user_id,
        token: patient.token().to_owned(),
        handle: String::new(),
        refresh: String::new(),
    };

    let clients = [
        Running::start(patient, deadline),
        Running::start(doctor, deadline),
    ];
    let confirmed = || {
        clients
            .iter()
            .map(|c| c.progress.confirmed.load(Ordering::SeqCst))
            .sum::<u64>()
    };
    let wait_for = |target: u64| async move {
        while confirmed() < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    for (when, fault) in &faults {
        wait_for(*when).await;
        fire(&mut cluster, *fault).await;
    }
    wait_for(params.messages).await;
    let workload = started.elapsed();

    // What is stored, read through any instance: the database is the truth.
    let port = cluster.ports()[0];
    let stored = loop {
        let probe = harness::http()
            .get(format!(
                "{}/api/conversations/{}/messages?limit=1",
                harness::base(port),
                conversation.id
            ))
            .bearer_auth(&reader.token)
            .send()
            .await;
        if probe.is_ok_and(|r| r.status() == 200) {
            break harness::read_all(port, &reader, conversation.id).await;
        }
        assert!(Instant::now() < deadline, "the cluster does not answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let last = stored.last().map_or(0, |m| m.seq.0);
    let grace = Instant::now() + Duration::from_secs(30);
    while clients
        .iter()
        .any(|c| c.progress.delivered_seq.load(Ordering::SeqCst) < last)
        && Instant::now() < deadline.max(grace)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let [patient, doctor] = clients;
    let patient = patient.stop().await;
    let doctor = doctor.stop().await;
    let report = checker::check(
        &[checker::Side::of(&patient), checker::Side::of(&doctor)],
        &stored,
    );
    print!("{}", checker::render(&report));
    for client in [&patient, &doctor] {
        println!("  {} client: {:?}", client.config.name, client.stats);
    }
    let all_written = report.written == params.messages;
    let verdict = if report.ok() && all_written {
        "PASS"
    } else {
        "FAIL"
    };
    println!(
        "{name} result: {verdict} — N={} instances={instances} kills={} nats-outages={} \
         pg-restarts={} lost={} duplicated={} out-of-order={} recovered={} duration={:.1}s \
         seed={}",
        params.messages,
        params.kills,
        params.nats_outages,
        params.pg_restarts,
        report.lost,
        report.duplicated,
        report.out_of_order,
        report.recovered,
        workload.as_secs_f64(),
        params.seed
    );
    if verdict == "FAIL" {
        for instance in &cluster.instances {
            println!(
                "--- instance {} log tail:\n{}",
                instance.number(),
                tail_of(&instance.log_path())
            );
        }
        panic!("{name} failed (seed {})", params.seed);
    }
}

fn tail_of(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_instances_under_load_loses_and_duplicates_nothing() {
    run("instance kills", Params::new(400, 2, 0, 0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_postgresql_under_load_loses_and_duplicates_nothing() {
    run("PostgreSQL restart", Params::new(400, 0, 0, 1)).await;
}

/// Everything at once; `cargo xtask chaos --cluster` runs it at scale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_chaos() {
    let params = Params::new(
        env_number("CHAOS_MESSAGES").unwrap_or(400),
        env_number("CHAOS_KILLS").unwrap_or(1),
        env_number("CHAOS_NATS_OUTAGES").unwrap_or(1),
        env_number("CHAOS_PG_RESTARTS").unwrap_or(1),
    );
    run("cluster chaos", params).await;
}
