//! What every phase shares: the run's sizes, where each user's socket is, the instances'
//! metrics, and the progress lines.

use super::procs::*;
use crate::server::{self};
use colloque_testbed::Cluster;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Server instances.
pub(super) const INSTANCES: usize = 3;

/// The sizes of one run.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Sockets per instance: ten patients for each doctor.
    pub users_per_instance: usize,
    /// The sustained phase's offered rate, msg/s.
    pub rate: u32,
    /// How long the sustained phase sends.
    pub sustained: Duration,
    /// How long the saturation phase sends.
    pub saturation: Duration,
    /// How long NATS is down.
    pub outage: Duration,
    /// The offered rate during the outage, msg/s.
    pub outage_rate: u32,
}

impl Sizes {
    /// The default run (about 3 minutes), or the quick one.
    pub fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                users_per_instance: 100,
                rate: 600,
                sustained: Duration::from_secs(10),
                saturation: Duration::from_secs(5),
                outage: Duration::from_secs(3),
                outage_rate: 100,
            }
        } else {
            Sizes {
                users_per_instance: 1_000,
                rate: 600,
                sustained: Duration::from_secs(60),
                saturation: Duration::from_secs(20),
                outage: Duration::from_secs(10),
                outage_rate: 100,
            }
        }
    }

    pub(super) fn patients_per_instance(&self) -> usize {
        (self.users_per_instance * 10).div_ceil(11)
    }

    pub(super) fn doctors_per_instance(&self) -> usize {
        self.users_per_instance - self.patients_per_instance()
    }
}

/// The instance (from 0) of patient `p`.
pub(super) fn patient_instance(p: usize) -> usize {
    p % INSTANCES
}

/// The instance of doctor `d`. The accounts link patient `p` to doctor `p mod doctors`
/// ([`scenarios::main_accounts`]) and the doctors are a multiple of [`INSTANCES`], so a
/// patient's doctor is always on the instance after the patient's.
pub(super) fn doctor_instance(d: usize) -> usize {
    (d % INSTANCES + 1) % INSTANCES
}

/// What the phases share.
pub(super) struct Bench {
    pub(super) http: reqwest::Client,
    /// Each instance's metrics port, in instance order.
    pub(super) metrics_ports: Vec<u16>,
    pub(super) postgres_port: u16,
    pub(super) nats_port: u16,
    /// PostgreSQL counts each statement (`pg_stat_statements`, `--statements`): the
    /// sustained phase says which statements its messages cost.
    pub(super) statements: bool,
}

impl Bench {
    /// The instances' metrics (unlabelled series only), in instance order; an instance that
    /// does not answer gives an empty map.
    pub(super) async fn metrics(&self) -> Vec<HashMap<String, f64>> {
        let fetches = self.metrics_ports.iter().map(|port| async move {
            let text = match self
                .http
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            parse_metrics(&text)
        });
        futures_util::future::join_all(fetches).await
    }

    /// CPU time so far of every process of the run.
    pub(super) fn cpu(&self, cluster: &Cluster) -> CpuTimes {
        CpuTimes {
            at: Instant::now(),
            instances: cluster
                .instances
                .iter()
                .map(|instance| {
                    instance.pid().map_or(Duration::ZERO, |pid| {
                        server::cpu_of(&format!("/proc/{pid}/stat"))
                    })
                })
                .collect(),
            postgres: listening_process("postgres", self.postgres_port)
                .map_or(Duration::ZERO, tree_cpu),
            nats: listening_process("nats-server", self.nats_port).map_or(Duration::ZERO, tree_cpu),
            generator: server::own_cpu(),
            machine: machine_busy(),
        }
    }
}

/// `name value` lines of a Prometheus text page (no labels), `_total` removed from counters.
pub(super) fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.contains('{'))
        .filter_map(|line| {
            let (name, value) = line.split_once(' ')?;
            let name = name.strip_suffix("_total").unwrap_or(name);
            Some((name.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

pub(super) fn metric(metrics: &HashMap<String, f64>, name: &str) -> f64 {
    metrics.get(name).copied().unwrap_or(f64::NAN)
}

/// The sum over the instances of a counter's growth between two readings.
pub(super) fn counter_delta(
    before: &[HashMap<String, f64>],
    after: &[HashMap<String, f64>],
    name: &str,
) -> f64 {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| metric(a, name) - metric(b, name))
        .sum()
}

pub(super) fn step(what: &str) {
    eprintln!("==> {what}");
}

// ---- /proc ----
