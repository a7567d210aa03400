//! The accounts and the sockets: each patient and doctor logs in on the instance chosen for
//! them, and the first phase's figures (sockets held, memory).

use super::procs::*;
use super::shared::*;
use crate::client::{Socket, Tracker};
use crate::report::{Report, mb, secs, thousands};
use crate::scenarios::{self};
use crate::server::{self, HashCost};
use colloque_protocol::ConversationId;
use colloque_testbed::Cluster;
use futures_util::{StreamExt, stream};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The connected users: every patient with their conversation and socket, every doctor's
/// socket.
pub(super) struct Population {
    pub(super) patients: Vec<Patient>,
    pub(super) doctors: Vec<Socket>,
}

pub(super) struct Patient {
    pub(super) conversation: ConversationId,
    pub(super) socket: Socket,
}

impl Population {
    pub(super) fn track(&self, tracker: &Arc<Tracker>) {
        for socket in self
            .patients
            .iter()
            .map(|patient| &patient.socket)
            .chain(&self.doctors)
        {
            socket.track(tracker);
        }
    }

    pub(super) fn close(self) {
        for socket in self
            .patients
            .into_iter()
            .map(|patient| patient.socket)
            .chain(self.doctors)
        {
            socket.close();
        }
    }
}

/// Phase 1: accounts imported into the cluster's database, everyone logged in on their own
/// instance, one conversation per patient, then one socket each.
pub(super) async fn connect(
    cluster: &Cluster,
    bench: &Bench,
    server_bin: &Path,
    work: &Path,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<Population> {
    let (patients, doctors) = (
        sizes.patients_per_instance() * INSTANCES,
        sizes.doctors_per_instance() * INSTANCES,
    );
    let accounts = scenarios::main_accounts(&scenarios::Sizes {
        patients,
        doctors,
        rates: Vec::new(),
        phase: Duration::ZERO,
        catch_up: 0,
        burst: 0,
        idle_users: 0,
    });
    let started = Instant::now();
    server::import(
        server_bin,
        &work.join("import"),
        Some(&cluster.database_url()),
        0,
        &accounts,
        HashCost::Benchmark,
    )
    .await?;
    let import_time = started.elapsed();

    let http = &bench.http;
    let bases: Vec<String> = cluster.instances.iter().map(|i| i.base_url()).collect();
    let urls: Vec<String> = cluster
        .ports()
        .iter()
        .map(|port| format!("ws://127.0.0.1:{port}{}", colloque_protocol::WS_PATH))
        .collect();
    // Per instance, in order: its doctors (d ascending), its patients (p ascending).
    let doctors_of = |i: usize| (0..doctors).filter(move |&d| doctor_instance(d) == i);
    let patients_of = |i: usize| (0..patients).filter(move |&p| patient_instance(p) == i);
    let started = Instant::now();
    let logins = (0..INSTANCES).map(|i| {
        let base = &bases[i];
        async move {
            let doctors = scenarios::login_all(
                http,
                base,
                doctors_of(i).map(|d| format!("d{d}@bench.test")).collect(),
                8,
            )
            .await?;
            let patients = scenarios::login_all(
                http,
                base,
                patients_of(i).map(|p| format!("p{p}@bench.test")).collect(),
                8,
            )
            .await?;
            anyhow::Ok((doctors, patients))
        }
    });
    let sessions: Vec<_> = futures_util::future::join_all(logins)
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let login_time = started.elapsed();
    let doctor_session = |d: usize| &sessions[doctor_instance(d)].0[d / INSTANCES];
    let patient_session = |p: usize| &sessions[patient_instance(p)].1[p / INSTANCES];

    let started = Instant::now();
    let conversations: Vec<ConversationId> = stream::iter(0..patients)
        .map(|p| {
            let base = &bases[patient_instance(p)];
            async move {
                crate::client::start_conversation(
                    http,
                    base,
                    patient_session(p),
                    doctor_session(p % doctors).user,
                )
                .await
            }
        })
        .buffered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let conversation_time = started.elapsed();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = |cluster: &Cluster| -> Vec<u64> {
        cluster
            .instances
            .iter()
            .map(|i| {
                i.pid()
                    .map_or(0, |pid| server::rss_of(&format!("/proc/{pid}/status")))
            })
            .collect()
    };
    let before = rss(cluster);
    let started = Instant::now();
    let connects = (0..INSTANCES).map(|i| {
        let (url, sessions) = (&urls[i], &sessions[i]);
        async move {
            let doctors = scenarios::connect_all(url, &sessions.0, 16).await?;
            let patients = scenarios::connect_all(url, &sessions.1, 16).await?;
            anyhow::Ok((doctors, patients))
        }
    });
    let sockets: Vec<_> = futures_util::future::join_all(connects)
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let connect_time = started.elapsed();
    let opened: Vec<usize> = sockets.iter().map(|(d, p)| d.len() + p.len()).collect();
    // Back into global order: the k-th doctor of instance i is the k-th d with that instance.
    let mut doctor_sockets: Vec<_> = Vec::new();
    let mut patient_sockets: Vec<_> = Vec::new();
    for (d, p) in sockets {
        doctor_sockets.push(d.into_iter());
        patient_sockets.push(p.into_iter());
    }
    let doctors_in_order: Vec<Socket> = (0..doctors)
        .map(|d| {
            doctor_sockets[doctor_instance(d)]
                .next()
                .expect("one socket per doctor")
        })
        .collect();
    let population = Population {
        patients: (0..patients)
            .map(|p| Patient {
                conversation: conversations[p],
                socket: patient_sockets[patient_instance(p)]
                    .next()
                    .expect("one socket per patient"),
            })
            .collect(),
        doctors: doctors_in_order,
    };

    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss(cluster);
    let metrics = bench.metrics().await;
    let held: Vec<f64> = metrics
        .iter()
        .map(|m| metric(m, "colloque_sockets_open"))
        .collect();
    let postgres = listening_process("postgres", bench.postgres_port);
    let (postgres_pss, postgres_processes) = postgres.map_or((0, 0), |pid| {
        let tree = process_tree(pid);
        (tree.iter().map(|&pid| pss_of(pid)).sum::<u64>(), tree.len())
    });
    let nats_rss = listening_process("nats-server", bench.nats_port)
        .map_or(0, |pid| server::rss_of(&format!("/proc/{pid}/status")));

    let idle = Duration::from_secs(3);
    let cpu0 = bench.cpu(cluster);
    tokio::time::sleep(idle).await;
    let idle_cpu = bench.cpu(cluster).since(&cpu0);

    report.row(
        "accounts: import-users into PostgreSQL, logins, one conversation per patient",
        format!(
            "{} patients + {} doctors: {} + {} + {}",
            thousands(patients),
            thousands(doctors),
            secs(import_time),
            secs(login_time),
            secs(conversation_time)
        ),
        "",
    );
    report.row(
        "sockets held per instance (each instance's own gauge)",
        format!(
            "{} ({} opened in {})",
            held.iter()
                .map(|h| if h.is_nan() {
                    "?".to_owned()
                } else {
                    thousands(*h as usize)
                })
                .collect::<Vec<_>>()
                .join(" / "),
            thousands(opened.iter().sum()),
            secs(connect_time)
        ),
        &format!("3 × {}", thousands(sizes.users_per_instance)),
    );
    report.row(
        "RSS per instance, before → after its sockets",
        before
            .iter()
            .zip(&after)
            .map(|(b, a)| format!("{} → {}", mb(*b), mb(*a)))
            .collect::<Vec<_>>()
            .join(" / "),
        "",
    );
    report.row(
        "memory per socket, per instance",
        before
            .iter()
            .zip(&after)
            .zip(&opened)
            .map(|((b, a), n)| {
                format!(
                    "{:.1}",
                    a.saturating_sub(*b) as f64 / (*n).max(1) as f64 / 1e3
                )
            })
            .collect::<Vec<_>>()
            .join(" / ")
            + " KB",
        "",
    );
    report.row(
        "PostgreSQL memory (PSS of its processes) / NATS RSS",
        format!(
            "{} ({postgres_processes} processes) / {}",
            mb(postgres_pss),
            mb(nats_rss)
        ),
        "",
    );
    report.row(
        "idle CPU with every socket open, % of one core",
        idle_cpu.text(),
        "",
    );
    report.value(
        "connected",
        json!({"patients": patients, "doctors": doctors,
            "sockets_opened_per_instance": opened, "sockets_held_per_instance": held,
            "rss_before": before, "rss_after": after,
            "postgres_pss": postgres_pss, "postgres_processes": postgres_processes,
            "nats_rss": nats_rss,
            "import_secs": import_time.as_secs_f64(), "login_secs": login_time.as_secs_f64(),
            "conversation_secs": conversation_time.as_secs_f64(),
            "connect_secs": connect_time.as_secs_f64(), "idle_cpu": idle_cpu.json()}),
    );
    Ok(population)
}
