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

use crate::client::{DuplicateKind, Socket, Times, Tracker};
use crate::report::{Report, mb, percentiles, percentiles_text, secs, thousands};
use crate::scenarios::{self, DRAIN};
use crate::server::{self, HashCost};
use anyhow::Context;
use colloque_protocol::ConversationId;
use colloque_testbed::{Cluster, ClusterOptions};
use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Server instances.
const INSTANCES: usize = 3;

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

    fn patients_per_instance(&self) -> usize {
        (self.users_per_instance * 10).div_ceil(11)
    }

    fn doctors_per_instance(&self) -> usize {
        self.users_per_instance - self.patients_per_instance()
    }
}

/// The instance (from 0) of patient `p`.
fn patient_instance(p: usize) -> usize {
    p % INSTANCES
}

/// The instance of doctor `d`. The accounts link patient `p` to doctor `p mod doctors`
/// ([`scenarios::main_accounts`]) and the doctors are a multiple of [`INSTANCES`], so a
/// patient's doctor is always on the instance after the patient's.
fn doctor_instance(d: usize) -> usize {
    (d % INSTANCES + 1) % INSTANCES
}

/// The whole run: starts the cluster, runs the phases, stops everything.
pub async fn run(
    server_bin: &Path,
    work: &Path,
    sizes: &Sizes,
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
    let bench = Bench {
        http: reqwest::Client::new(),
        metrics_ports,
        postgres_port: cluster.postgres.port(),
        nats_port: cluster.nats.port(),
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

/// What the phases share.
struct Bench {
    http: reqwest::Client,
    /// Each instance's metrics port, in instance order.
    metrics_ports: Vec<u16>,
    postgres_port: u16,
    nats_port: u16,
}

impl Bench {
    /// The instances' metrics (unlabelled series only), in instance order; an instance that
    /// does not answer gives an empty map.
    async fn metrics(&self) -> Vec<HashMap<String, f64>> {
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
    fn cpu(&self, cluster: &Cluster) -> CpuTimes {
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
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.contains('{'))
        .filter_map(|line| {
            let (name, value) = line.split_once(' ')?;
            let name = name.strip_suffix("_total").unwrap_or(name);
            Some((name.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

fn metric(metrics: &HashMap<String, f64>, name: &str) -> f64 {
    metrics.get(name).copied().unwrap_or(f64::NAN)
}

/// The sum over the instances of a counter's growth between two readings.
fn counter_delta(
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

/// CPU time of every process at one moment.
struct CpuTimes {
    at: Instant,
    instances: Vec<Duration>,
    postgres: Duration,
    nats: Duration,
    generator: Duration,
    /// Every process of the machine, this run's and others'.
    machine: Duration,
}

/// The CPU used between two readings, as percentages of one core.
struct CpuUse {
    instances: Vec<f64>,
    postgres: f64,
    nats: f64,
    generator: f64,
    /// The whole machine: a figure well above the run's own processes means something else
    /// was running.
    machine: f64,
    /// Instances' CPU seconds in all.
    instances_secs: f64,
    postgres_secs: f64,
}

impl CpuTimes {
    fn since(&self, before: &CpuTimes) -> CpuUse {
        let elapsed = self.at.duration_since(before.at).as_secs_f64().max(1e-9);
        let percent =
            |a: Duration, b: Duration| a.saturating_sub(b).as_secs_f64() / elapsed * 100.0;
        CpuUse {
            instances: self
                .instances
                .iter()
                .zip(&before.instances)
                .map(|(a, b)| percent(*a, *b))
                .collect(),
            postgres: percent(self.postgres, before.postgres),
            nats: percent(self.nats, before.nats),
            generator: percent(self.generator, before.generator),
            machine: percent(self.machine, before.machine),
            instances_secs: self
                .instances
                .iter()
                .zip(&before.instances)
                .map(|(a, b)| a.saturating_sub(*b).as_secs_f64())
                .sum(),
            postgres_secs: self.postgres.saturating_sub(before.postgres).as_secs_f64(),
        }
    }
}

impl CpuUse {
    fn text(&self) -> String {
        let total: f64 =
            self.instances.iter().sum::<f64>() + self.postgres + self.nats + self.generator;
        format!(
            "instances {}, PostgreSQL {:.0}, NATS {:.0}, generator {:.0} (these: {:.0}, whole \
             machine: {:.0} of {} %)",
            self.instances
                .iter()
                .map(|p| format!("{p:.0}"))
                .collect::<Vec<_>>()
                .join(" / "),
            self.postgres,
            self.nats,
            self.generator,
            total,
            self.machine,
            std::thread::available_parallelism().map_or(0, usize::from) * 100
        )
    }

    fn json(&self) -> serde_json::Value {
        json!({"instances_percent": self.instances, "postgres_percent": self.postgres,
            "nats_percent": self.nats, "generator_percent": self.generator,
            "machine_percent": self.machine})
    }
}

/// The connected users: every patient with their conversation and socket, every doctor's
/// socket.
struct Population {
    patients: Vec<Patient>,
    doctors: Vec<Socket>,
}

struct Patient {
    conversation: ConversationId,
    socket: Socket,
}

impl Population {
    fn track(&self, tracker: &Arc<Tracker>) {
        for socket in self
            .patients
            .iter()
            .map(|patient| &patient.socket)
            .chain(&self.doctors)
        {
            socket.track(tracker);
        }
    }

    fn close(self) {
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
async fn connect(
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

/// Sends `rate` messages a second for `duration`, round robin over the patients from patient
/// `first`, on schedule whatever the acks do (an open loop). Returns how many were sent.
async fn open_loop(
    population: &Population,
    rate: u32,
    duration: Duration,
    first: usize,
    tracker: &Tracker,
) -> u64 {
    let total = (f64::from(rate) * duration.as_secs_f64()) as u64;
    let started = tokio::time::Instant::now();
    for index in 0..total {
        let at = started + Duration::from_secs_f64(index as f64 / f64::from(rate));
        tokio::time::sleep_until(at).await;
        let patient = &population.patients[(first + index as usize) % population.patients.len()];
        patient.socket.send(patient.conversation, tracker, index);
    }
    total
}

/// Phase 2: a fixed offered rate.
async fn sustained(
    cluster: &Cluster,
    bench: &Bench,
    population: &Population,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tracker = Tracker::recording();
    population.track(&tracker);
    let postgres0 = postgres_counters(cluster);
    let cpu0 = bench.cpu(cluster);
    let started = Instant::now();
    let sent = open_loop(population, sizes.rate, sizes.sustained, 0, &tracker).await;
    let window = started.elapsed();
    let acked_in_window = tracker.acked.load(Ordering::Relaxed);
    let delivered_in_window = tracker.delivered_count.load(Ordering::Relaxed);
    // The CPU of the window alone: what the rate costs, without the drain's idle tail.
    let cpu = bench.cpu(cluster).since(&cpu0);
    scenarios::drain(&tracker, DRAIN).await;
    let postgres = postgres_use(cluster, &postgres0, acked_in_window).await;
    let acked = tracker.acked.load(Ordering::Relaxed);
    let (lost, undelivered) = tracker.missing();
    let duplicates = duplicated(&tracker);
    let ack = tracker.ack.lock().unwrap().clone();
    let delivered = tracker.delivered.lock().unwrap().clone();
    let acked_rate = acked_in_window as f64 / window.as_secs_f64();
    let delivered_rate = delivered_in_window as f64 / window.as_secs_f64();
    write_timeline("sustained", started, &tracker)?;
    let name = format!(
        "sustained, {} msg/s offered for {} s",
        sizes.rate,
        sizes.sustained.as_secs()
    );
    report.row(
        &format!("{name}: acked / delivered rate"),
        format!(
            "{acked_rate:.0} / {delivered_rate:.0} msg/s ({} sent)",
            thousands(sent as usize)
        ),
        "≥ 500 acked msg/s",
    );
    report.row(
        "sustained: send → ack (sender's instance)",
        percentiles_text(&ack),
        "p99 < 50 ms",
    );
    report.row(
        "sustained: send → delivered on another instance",
        percentiles_text(&delivered),
        "p99 < 150 ms",
    );
    report.row(
        "sustained: lost / undelivered / duplicated",
        losses(&tracker),
        "0 / 0 / 0",
    );
    report.row("sustained: CPU, % of one core", cpu.text(), "");
    let instances_ms = cpu.instances_secs * 1e3 / acked_in_window.max(1) as f64;
    let postgres_ms = cpu.postgres_secs * 1e3 / acked_in_window.max(1) as f64;
    report.row(
        "sustained: CPU per acked message, instances (all 3) / PostgreSQL",
        format!("{instances_ms:.2} / {postgres_ms:.2} ms"),
        "",
    );
    report.row(
        "sustained: PostgreSQL per acked message (its statistics)",
        postgres.0,
        "",
    );
    report.value(
        "sustained",
        json!({"offered_per_sec": sizes.rate, "secs": window.as_secs_f64(), "sent": sent,
            "acked": acked, "acked_per_sec": acked_rate, "delivered_per_sec": delivered_rate,
            "lost": lost, "undelivered": undelivered, "duplicated": duplicates,
            "duplicate_kinds": duplicate_kinds(&tracker),
            "errors": tracker.errors.load(Ordering::Relaxed),
            "strays": tracker.strays.load(Ordering::Relaxed),
            "ack": percentiles(&ack), "delivered": percentiles(&delivered),
            "cpu": cpu.json(),
            "postgres_per_message": postgres.1,
            "instances_cpu_ms_per_message": instances_ms,
            "postgres_cpu_ms_per_message": postgres_ms}),
    );
    Ok(())
}

/// Phase 3: every patient sends again as soon as its previous message is acked.
async fn saturation(
    cluster: &Cluster,
    bench: &Bench,
    population: &Population,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tracker = Tracker::recording();
    population.track(&tracker);
    let postgres0 = postgres_counters(cluster);
    let cpu0 = bench.cpu(cluster);
    let started = Instant::now();
    let deadline = started + sizes.saturation;
    let loops = population.patients.iter().map(|patient| {
        patient
            .socket
            .closed_loop(patient.conversation, &tracker, deadline)
    });
    futures_util::future::join_all(loops).await;
    let elapsed = started.elapsed();
    let acked = tracker.acked.load(Ordering::Relaxed);
    let delivered_count = tracker.delivered_count.load(Ordering::Relaxed);
    let cpu = bench.cpu(cluster).since(&cpu0);
    scenarios::drain(&tracker, DRAIN).await;
    let postgres = postgres_use(cluster, &postgres0, acked).await;
    let (lost, undelivered) = tracker.missing();
    let duplicates = duplicated(&tracker);
    let ack = tracker.ack.lock().unwrap().clone();
    let delivered = tracker.delivered.lock().unwrap().clone();
    let acked_rate = acked as f64 / elapsed.as_secs_f64();
    let delivered_rate = delivered_count as f64 / elapsed.as_secs_f64();
    write_timeline("saturation", started, &tracker)?;
    report.row(
        &format!(
            "saturation ({} senders, closed loop, {} s): acked / delivered",
            thousands(population.patients.len()),
            sizes.saturation.as_secs()
        ),
        format!("{acked_rate:.0} / {delivered_rate:.0} msg/s"),
        "",
    );
    report.row("saturation: send → ack", percentiles_text(&ack), "");
    report.row(
        "saturation: send → delivered on another instance",
        percentiles_text(&delivered),
        "",
    );
    report.row(
        "saturation: lost / undelivered / duplicated",
        losses(&tracker),
        "0 / 0 / 0",
    );
    report.row("saturation: CPU, % of one core", cpu.text(), "");
    report.row(
        "saturation: PostgreSQL per acked message (its statistics)",
        postgres.0,
        "",
    );
    report.value(
        "saturation",
        json!({"senders": population.patients.len(), "secs": elapsed.as_secs_f64(),
            "sent": tracker.sent.load(Ordering::Relaxed), "acked_per_sec": acked_rate,
            "delivered_per_sec": delivered_rate, "lost": lost, "undelivered": undelivered,
            "duplicated": duplicates,
            "duplicate_kinds": duplicate_kinds(&tracker),
            "errors": tracker.errors.load(Ordering::Relaxed),
            "ack": percentiles(&ack), "delivered": percentiles(&delivered),
            "cpu": cpu.json(), "postgres_per_message": postgres.1}),
    );
    Ok(())
}

/// PostgreSQL's cumulative counters for the cluster's database: transactions, rows, WAL
/// records, bytes and syncs (`pg_stat_database`, `pg_stat_wal`).
fn postgres_counters(cluster: &Cluster) -> Option<Vec<f64>> {
    let sql = format!(
        "SELECT d.xact_commit + d.xact_rollback, d.tup_returned + d.tup_fetched, \
         d.tup_inserted + d.tup_updated + d.tup_deleted, w.wal_records, w.wal_bytes, w.wal_sync \
         FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = '{}'",
        colloque_testbed::DATABASE
    );
    let line = tokio::task::block_in_place(|| cluster.postgres.psql("postgres", &sql)).ok()?;
    line.trim()
        .split('|')
        .map(|v| v.trim().parse().ok())
        .collect()
}

/// What PostgreSQL did per message since `before`, as a table cell and as JSON. Its backends
/// publish their statistics up to a second or so late: this waits a little first.
async fn postgres_use(
    cluster: &Cluster,
    before: &Option<Vec<f64>>,
    messages: u64,
) -> (String, serde_json::Value) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (Some(before), Some(after)) = (before, postgres_counters(cluster)) else {
        return ("?".to_owned(), serde_json::Value::Null);
    };
    let per: Vec<f64> = after
        .iter()
        .zip(before)
        .map(|(a, b)| (a - b) / messages.max(1) as f64)
        .collect();
    (
        format!(
            "{:.2} transactions, {:.1} rows read, {:.1} rows written, {:.1} WAL records, \
             {:.0} WAL bytes, {:.2} WAL syncs",
            per[0], per[1], per[2], per[3], per[4], per[5]
        ),
        json!({"transactions": per[0], "rows_read": per[1], "rows_written": per[2],
            "wal_records": per[3], "wal_bytes": per[4], "wal_syncs": per[5]}),
    )
}

/// When each instance saw the bus go down, then come back.
#[derive(Debug, Default, Clone, Copy)]
struct BusWatch {
    down: Option<Instant>,
    up_again: Option<Instant>,
}

/// Polls each instance's `colloque_bus_up` every 20 ms until `stop`.
async fn watch_bus(http: reqwest::Client, ports: Vec<u16>, stop: Arc<AtomicBool>) -> Vec<BusWatch> {
    let mut watches = vec![BusWatch::default(); ports.len()];
    while !stop.load(Ordering::Relaxed) {
        for (watch, port) in watches.iter_mut().zip(&ports) {
            let text = match http
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .timeout(Duration::from_secs(1))
                .send()
                .await
            {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(_) => continue,
            };
            let up = metric(&parse_metrics(&text), "colloque_bus_up");
            let now = Instant::now();
            if up == 0.0 && watch.down.is_none() {
                watch.down = Some(now);
            } else if up == 1.0 && watch.down.is_some() && watch.up_again.is_none() {
                watch.up_again = Some(now);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watches
}

/// Phase 4: NATS killed while the patients send, started again, then a short run with the bus
/// back.
async fn outage(
    cluster: &mut Cluster,
    bench: &Bench,
    population: &Population,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tracker = Tracker::recording();
    population.track(&tracker);
    let metrics0 = bench.metrics().await;
    let stop_watching = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_bus(
        bench.http.clone(),
        bench.metrics_ports.clone(),
        stop_watching.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let stopped = Instant::now();
    tokio::task::block_in_place(|| cluster.nats.stop())?;
    let sent = open_loop(population, sizes.outage_rate, sizes.outage, 0, &tracker).await;
    // Everything sent so far was sent while NATS was down.
    let restarted = Instant::now();
    let acked_before = tracker.acked.load(Ordering::Relaxed);
    let delivered_before = tracker.delivered_count.load(Ordering::Relaxed);
    tokio::task::block_in_place(|| cluster.nats.start_again())?;
    let listening = Instant::now();
    scenarios::drain(&tracker, DRAIN).await;
    let drained = Instant::now();
    let metrics1 = bench.metrics().await;

    // The bus back: the same rate for two seconds, from the next patients on.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_started = Instant::now();
    let after_sent = open_loop(
        population,
        sizes.outage_rate,
        Duration::from_secs(2),
        sent as usize,
        &tracker,
    )
    .await;
    scenarios::drain(&tracker, DRAIN).await;
    // Late copies of anything would arrive within a sweep or two.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_watching.store(true, Ordering::Relaxed);
    let watches = watcher.await?;

    write_timeline("outage", stopped, &tracker)?;
    let timeline = tracker.timeline();
    let during: Vec<&Times> = timeline.iter().filter(|t| t.sent < restarted).collect();
    let after: Vec<&Times> = timeline
        .iter()
        .filter(|t| t.sent >= after_started)
        .collect();
    let outstanding = during
        .iter()
        .filter(|t| t.delivered.is_none_or(|d| d >= restarted))
        .count();
    let last_delivery = during.iter().filter_map(|t| t.delivered).max();
    // From NATS's restart (the moment it was started again) to the last message of the outage
    // delivered; zero when the sweep had delivered them all before.
    let catch_up = last_delivery.map_or(Duration::ZERO, |last| {
        last.saturating_duration_since(restarted)
    });
    let first_second_done = during
        .iter()
        .filter(|t| t.sent < stopped + Duration::from_secs(1))
        .filter_map(|t| t.delivered)
        .max()
        .map(|last| last.duration_since(stopped));
    let ack_during = histogram(during.iter().filter_map(|t| Some(t.acked? - t.sent)));
    let delivered_during = histogram(during.iter().filter_map(|t| Some(t.delivered? - t.sent)));
    let delivered_after = histogram(after.iter().filter_map(|t| Some(t.delivered? - t.sent)));
    let (lost, undelivered) = tracker.missing();
    let duplicates = duplicated(&tracker);
    let dropped = counter_delta(&metrics0, &metrics1, "colloque_bus_wakeups_dropped");
    let swept = counter_delta(&metrics0, &metrics1, "colloque_sweep_gaps_filled");
    let noticed: Vec<Option<Duration>> = watches
        .iter()
        .map(|w| w.down.map(|down| down.saturating_duration_since(stopped)))
        .collect();
    let reconnected: Vec<Option<Duration>> = watches
        .iter()
        .map(|w| w.up_again.map(|up| up.saturating_duration_since(restarted)))
        .collect();
    let durations_text = |list: &[Option<Duration>]| {
        list.iter()
            .map(|d| d.map_or("?".to_owned(), |d| format!("{:.2}", d.as_secs_f64())))
            .collect::<Vec<_>>()
            .join(" / ")
            + " s"
    };

    let name = format!(
        "NATS outage, {} s at {} msg/s",
        sizes.outage.as_secs(),
        sizes.outage_rate
    );
    report.row(
        &format!("{name}: sent / acked during it"),
        format!("{} / {acked_before}", thousands(sent as usize)),
        "",
    );
    report.row(
        "outage: NATS killed → each instance's bus down",
        durations_text(&noticed),
        "",
    );
    report.row(
        "outage: delivered before NATS came back (by the sweeps)",
        format!("{delivered_before} of {sent}"),
        "",
    );
    report.row(
        "outage: send → ack during it",
        percentiles_text(&ack_during),
        "",
    );
    report.row(
        "outage: send → delivered on another instance, messages sent during it",
        percentiles_text(&delivered_during),
        "",
    );
    report.row(
        "outage: NATS started again → each instance's bus up",
        durations_text(&reconnected),
        "",
    );
    report.row(
        "outage: catch-up, NATS started again → last outstanding message delivered",
        if outstanding == 0 {
            "0 s: none outstanding (the sweeps had delivered all)".to_owned()
        } else {
            format!("{} ({outstanding} outstanding)", secs(catch_up))
        },
        "< 2 s",
    );
    report.row(
        "outage: its start → all of its first second delivered",
        first_second_done.map_or("never".to_owned(), secs),
        "",
    );
    report.row(
        "outage: wake-ups dropped / gaps filled by sweeps and resyncs (all instances)",
        format!("{dropped:.0} / {swept:.0}"),
        "",
    );
    report.row(
        "outage: send → delivered with the bus back (2 s at the same rate)",
        percentiles_text(&delivered_after),
        "",
    );
    report.row(
        "outage and after: lost / undelivered / duplicated",
        losses(&tracker),
        "0 / 0 / 0",
    );
    report.value(
        "nats_outage",
        json!({"outage_secs": restarted.duration_since(stopped).as_secs_f64(),
            "offered_per_sec": sizes.outage_rate, "sent": sent, "acked_during": acked_before,
            "delivered_during": delivered_before, "outstanding_at_restart": outstanding,
            "nats_listening_secs_after_start": listening.duration_since(restarted).as_secs_f64(),
            "catch_up_secs": catch_up.as_secs_f64(),
            "first_second_delivered_secs": first_second_done.map(|d| d.as_secs_f64()),
            "drained_secs_after_restart": drained.duration_since(restarted).as_secs_f64(),
            "bus_down_secs_after_kill": seconds(&noticed),
            "bus_up_secs_after_start": seconds(&reconnected),
            "wakeups_dropped": dropped, "sweep_gaps_filled": swept,
            "ack": percentiles(&ack_during), "delivered": percentiles(&delivered_during),
            "after": {"sent": after_sent, "delivered": percentiles(&delivered_after)},
            "lost": lost, "undelivered": undelivered, "duplicated": duplicates,
            "duplicate_kinds": duplicate_kinds(&tracker),
            "errors": tracker.errors.load(Ordering::Relaxed),
            "strays": tracker.strays.load(Ordering::Relaxed)}),
    );
    Ok(())
}

/// With `COLLOQUE_BENCH_TIMELINE=DIR`: every message of the phase in `DIR/<phase>.csv`, one
/// line each: sent, acked and delivered, in milliseconds since the phase started (for a look at
/// when the slow ones were sent).
fn write_timeline(phase: &str, started: Instant, tracker: &Tracker) -> anyhow::Result<()> {
    let Some(dir) = std::env::var_os("COLLOQUE_BENCH_TIMELINE") else {
        return Ok(());
    };
    let path = Path::new(&dir).join(format!("{phase}.csv"));
    let timeline = tracker.timeline();
    let ms = |at: Option<Instant>| {
        at.map_or(String::new(), |at| {
            format!("{:.3}", at.duration_since(started).as_secs_f64() * 1e3)
        })
    };
    let mut lines: Vec<&Times> = timeline.iter().collect();
    lines.sort_by_key(|t| t.sent);
    let text: String = std::iter::once("sent_ms,acked_ms,delivered_ms\n".to_owned())
        .chain(
            lines
                .iter()
                .map(|t| format!("{},{},{}\n", ms(Some(t.sent)), ms(t.acked), ms(t.delivered))),
        )
        .collect();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// "lost / undelivered / duplicated of sent": duplicated is a second ack, or a second push of
/// one message (on the socket that had it, or on a third one). A push of a message onto its
/// sender's own socket (which should get only the ack) is counted apart, as an echo. Each is
/// also described on stderr.
fn losses(tracker: &Tracker) -> String {
    let (lost, undelivered) = tracker.missing();
    let log = tracker.duplicate_log();
    let count = |kind| log.iter().filter(|d| d.kind == kind).count();
    let echoes = count(DuplicateKind::PushToSender);
    let mut text = format!(
        "{lost} / {undelivered} / {} of {}",
        log.len() - echoes,
        thousands(tracker.sent.load(Ordering::Relaxed) as usize)
    );
    let kinds = [
        (
            DuplicateKind::PushTwiceOnOneSocket,
            "pushed twice on one socket",
        ),
        (
            DuplicateKind::PushOnAnotherSocket,
            "pushed to a third socket",
        ),
        (DuplicateKind::Ack, "acked twice"),
        (DuplicateKind::PushToSender, "echoed to its sender's socket"),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter(|(kind, _)| count(*kind) > 0)
        .map(|(kind, what)| format!("{} {what}", count(*kind)))
        .collect();
    if !parts.is_empty() {
        text += &format!(" ({})", parts.join(", "));
    }
    for duplicate in log.iter().take(10) {
        eprintln!(
            "    {:?}: {:.0} ms after its send, {} its ack",
            duplicate.kind,
            duplicate.after_send.as_secs_f64() * 1e3,
            if duplicate.after_ack {
                "after"
            } else {
                "before"
            }
        );
    }
    text
}

fn seconds(durations: &[Option<Duration>]) -> Vec<Option<f64>> {
    durations
        .iter()
        .map(|d| d.map(|d| d.as_secs_f64()))
        .collect()
}

/// Second acks and second pushes of a message, echoes to its sender left apart ([`losses`]).
fn duplicated(tracker: &Tracker) -> usize {
    tracker
        .duplicate_log()
        .iter()
        .filter(|d| d.kind != DuplicateKind::PushToSender)
        .count()
}

/// The duplicates by kind, as JSON.
fn duplicate_kinds(tracker: &Tracker) -> serde_json::Value {
    let log = tracker.duplicate_log();
    let count = |kind| log.iter().filter(|d| d.kind == kind).count();
    json!({"pushed_twice_on_one_socket": count(DuplicateKind::PushTwiceOnOneSocket),
        "echoed_to_sender": count(DuplicateKind::PushToSender),
        "pushed_to_another_socket": count(DuplicateKind::PushOnAnotherSocket),
        "acked_twice": count(DuplicateKind::Ack)})
}

/// A histogram (µs) of durations.
fn histogram(durations: impl Iterator<Item = Duration>) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds");
    for duration in durations {
        let _ = histogram.record(duration.as_micros().max(1) as u64);
    }
    histogram
}

/// The warnings and errors each instance logged, echoed to stderr and counted in the table.
fn report_logs(cluster: &Cluster, report: &mut Report) {
    let mut counts = Vec::new();
    for instance in &cluster.instances {
        let log = std::fs::read_to_string(instance.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
            .collect();
        eprintln!(
            "    instance {} logged {} warning or error lines",
            instance.number(),
            lines.len()
        );
        for line in lines.iter().take(8) {
            eprintln!("    | {line}");
        }
        counts.push(lines.len());
    }
    report.row(
        "warning or error lines in each instance's log",
        counts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" / "),
        "",
    );
    report.value("log_warnings_per_instance", json!(counts));
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

// ---- /proc ----

/// The process named `program` (its `argv[0]` ends with it) started with `-p <port>`.
fn listening_process(program: &str, port: u16) -> Option<u32> {
    let port = port.to_string();
    pids().into_iter().find(|&pid| {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        args.first()
            .is_some_and(|argv0| argv0.ends_with(program.as_bytes()))
            && args
                .windows(2)
                .any(|pair| pair[0] == b"-p" && pair[1] == port.as_bytes())
    })
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect()
}

/// The fields of `/proc/<pid>/stat` after the command name (field 3, the state, first).
fn stat_fields(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// `pid` and its children (one level: PostgreSQL's backends and helpers).
fn process_tree(pid: u32) -> Vec<u32> {
    let parent = pid.to_string();
    std::iter::once(pid)
        .chain(
            pids()
                .into_iter()
                .filter(|&child| stat_fields(child).get(1) == Some(&parent)),
        )
        .collect()
}

/// CPU time of `pid`, its live children and the children it has reaped.
fn tree_cpu(pid: u32) -> Duration {
    let ticks = |pid: u32, fields: std::ops::Range<usize>| -> u64 {
        let stat = stat_fields(pid);
        stat.get(fields)
            .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
    };
    // utime, stime at 11..13; cutime, cstime at 13..15 (fields 14 to 17 of the man page).
    let own = ticks(pid, 11..15);
    let children: u64 = process_tree(pid)
        .into_iter()
        .skip(1)
        .map(|child| ticks(child, 11..13))
        .sum();
    // USER_HZ is 100.
    Duration::from_millis((own + children) * 10)
}

/// CPU time the whole machine has spent busy since boot, every core together (the first line
/// of `/proc/stat`: everything but idle and iowait; guest time is already in user time).
fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .map_or(0, |fields| {
            fields
                .split_whitespace()
                .filter_map(|v| v.parse::<u64>().ok())
                .enumerate()
                // user nice system idle iowait irq softirq steal guest guest_nice
                .filter(|(i, _)| matches!(i, 0 | 1 | 2 | 5 | 6 | 7))
                .map(|(_, v)| v)
                .sum()
        });
    Duration::from_millis(ticks * 10)
}

/// Proportional set size of `pid` (shared memory split between the processes that map it).
fn pss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}
