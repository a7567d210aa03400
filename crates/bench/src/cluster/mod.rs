//! `colloque-bench cluster`: the scale-out figures. Three release `colloque-server` instances
//! on a private PostgreSQL (fsync on) and a `nats-server` ([`colloque_testbed::Cluster`], no
//! proxy), and this load generator, all on the same machine.
//!
//! The generator connects to each instance directly, so it decides where every socket is:
//! patient `p` is on instance `p mod 3` and their doctor on the next instance, so every
//! delivery crosses instances (stored by one, woken up through NATS, pushed by another).
//!
//! Phases, each adding its figures to the [`Report`]:
//! 1. connected: the sockets each instance holds (its own gauge), RSS per instance and
//!    PostgreSQL's memory;
//! 2. sustained: a fixed offered rate, send → ack on the sender's socket and send → delivered
//!    on the doctor's socket (another instance), lost / undelivered / duplicated, CPU of every
//!    process;
//! 3. saturation: every patient sends again as soon as acked;
//! 4. NATS outage: NATS is killed while the patients send, then started again: what the sweep
//!    delivered meanwhile, and how long the rest took once NATS was back.

use crate::report::Report;
use anyhow::Context;
use colloque_testbed::{Cluster, ClusterOptions};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

mod connect;
mod load;
mod outage;
mod procs;
mod shared;
mod tally;

use connect::connect;
use load::{saturation, sustained};
use outage::outage;

use procs::*;
pub use shared::Sizes;
use shared::*;
use tally::*;

/// The whole run: starts the cluster, runs the phases, stops everything.
pub async fn run(
    server_bin: &Path,
    work: &Path,
    sizes: &Sizes,
    statements: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        sizes.doctors_per_instance() > 0,
        "at least 11 users per instance"
    );
    step("cluster: PostgreSQL (fsync on), NATS, three instances");
    let server_bin = std::fs::canonicalize(server_bin)
        .with_context(|| format!("{} is missing", server_bin.display()))?;
    let mut options = ClusterOptions::new(&server_bin);
    options.instances = INSTANCES;
    options.extra_env = [
        // The per-user limits are protections, not what is measured.
        ("COLLOQUE_SEND_RATE_PER_MINUTE", "1000000000"),
        ("COLLOQUE_REQUEST_RATE_PER_MINUTE", "1000000000"),
        // Sockets are held for the whole run; the generator never pings.
        ("COLLOQUE_WS_IDLE_SECS", "3600"),
        ("COLLOQUE_SESSION_IDLE_SECS", "3600"),
        ("COLLOQUE_TOKEN_TTL_SECS", "3600"),
        // Warnings, and what delivery says about the bus and its sweeps.
        (
            "RUST_LOG",
            "warn,colloque_server::delivery=info,colloque_server::bus=info",
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    if statements {
        options.postgres.settings = vec![
            "shared_preload_libraries=pg_stat_statements".to_owned(),
            "pg_stat_statements.max=1000".to_owned(),
        ];
    }
    // What else the machine is doing: the figures are only this run's if this is near zero.
    let (busy0, at0) = (machine_busy(), Instant::now());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let busy_before = (machine_busy() - busy0).as_secs_f64() / at0.elapsed().as_secs_f64() * 100.0;
    let started = Instant::now();
    let mut cluster = tokio::task::block_in_place(|| Cluster::start(options))?;
    // Each instance serves its metrics on a port of its own (the sockets it holds, the bus's
    // state, the wake-ups dropped and the gaps the sweeps filled): one restart each, before
    // anyone connects.
    let mut metrics_ports = Vec::new();
    for instance in &mut cluster.instances {
        let port = colloque_testbed::free_port();
        let bind = format!("127.0.0.1:{port}");
        tokio::task::block_in_place(|| {
            instance.restart_with_env(&[("COLLOQUE_METRICS_BIND", bind.as_str())])?;
            instance.wait_ok()
        })?;
        metrics_ports.push(port);
    }
    let postgres_version = tokio::task::block_in_place(|| {
        cluster
            .postgres
            .psql("postgres", "SHOW server_version")
            .map(|v| v.split_whitespace().next().unwrap_or("?").to_owned())
    })
    .unwrap_or_else(|_| "?".to_owned());
    eprintln!(
        "    up in {:.1} s: instances on ports {:?}, PostgreSQL {postgres_version} on {}, \
         NATS on {}",
        started.elapsed().as_secs_f64(),
        cluster.ports(),
        cluster.postgres.port(),
        cluster.nats.port()
    );
    if statements {
        tokio::task::block_in_place(|| {
            cluster.postgres.psql(
                colloque_testbed::DATABASE,
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            )
        })?;
    }
    let bench = Bench {
        http: reqwest::Client::new(),
        metrics_ports,
        postgres_port: cluster.postgres.port(),
        nats_port: cluster.nats.port(),
        statements,
    };
    report.row(
        "machine",
        format!(
            "{} cores: 3 instances + PostgreSQL {postgres_version} (fsync on) + NATS + this \
             generator; other processes used {busy_before:.0} % of a core just before",
            std::thread::available_parallelism().map_or(0, usize::from)
        ),
        "",
    );
    report.value("machine_busy_percent_before", json!(busy_before));

    let outcome = phases(
        &mut cluster,
        &bench,
        server_bin.as_path(),
        work,
        sizes,
        report,
    )
    .await;
    report_logs(&cluster, report);
    tokio::task::block_in_place(|| drop(cluster));
    outcome
}

async fn phases(
    cluster: &mut Cluster,
    bench: &Bench,
    server_bin: &Path,
    work: &Path,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<()> {
    step(&format!(
        "accounts and sockets: {} users per instance",
        sizes.users_per_instance
    ));
    let population = connect(cluster, bench, server_bin, work, sizes, report).await?;
    step(&format!(
        "sustained: {} msg/s for {:?}",
        sizes.rate, sizes.sustained
    ));
    sustained(cluster, bench, &population, sizes, report).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    step(&format!("saturation for {:?}", sizes.saturation));
    saturation(cluster, bench, &population, sizes, report).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    step(&format!(
        "NATS outage: {:?} at {} msg/s",
        sizes.outage, sizes.outage_rate
    ));
    outage(cluster, bench, &population, sizes, report).await?;
    population.close();
    Ok(())
}
