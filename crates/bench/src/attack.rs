//! `colloque-bench attack` (behind `cargo xtask attack`): the attacks of issue 10 run against a
//! release server on loopback, each bounded in time. For each: what was tried and how often,
//! what the server answered, its memory and open files before, at the peak and after, whether
//! `/api/health` kept answering, and whether a legitimate patient could still log in and send
//! a message (acked) while it ran.
//!
//! The server trusts its loopback proxy (`--trusted-proxies 127.0.0.1`, as behind nginx), so
//! `X-Forwarded-For` stands for the client's address: "many addresses" is an attacker spread
//! over a botnet, "one address" a single machine (or a whole practice behind one NAT).

use crate::client::{self, Socket, Tracker};
use crate::report::{Report, mb};
use crate::server::{self, HashCost, Server};
use anyhow::Context;
use colloque_protocol::{ConversationId, LoginRequest};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const DOCTOR: &str = "doctor@attack.test";
const LEGIT: &str = "legit@attack.test";
const TARGET: &str = "target@attack.test";
/// Where the attacker is, when it is one machine.
const ATTACKER: &str = "203.0.113.66";
/// Sockets of the socket floods.
const FLOOD_SOCKETS: usize = 1_500;
/// Concurrent logins of the login burst.
const BURST: usize = 200;

fn accounts() -> String {
    let mut lines = vec![
        json!({"kind": "user", "role": "doctor", "email": DOCTOR, "name": "Dr Garde"}),
        json!({"kind": "user", "role": "patient", "email": LEGIT, "name": "Patient Honnête"}),
        json!({"kind": "user", "role": "patient", "email": TARGET, "name": "Patiente Visée"}),
        json!({"kind": "link", "doctor": DOCTOR, "patient": LEGIT}),
    ];
    lines.extend((0..BURST).map(|b| {
        json!({"kind": "user", "role": "patient", "email": format!("shift{b}@attack.test"),
            "name": format!("Équipe {b}")})
    }));
    lines.iter().map(|line| line.to_string() + "\n").collect()
}

/// What was sampled while an attack ran.
#[derive(Debug, Default, Clone, Copy)]
struct Sampled {
    peak_rss: u64,
    peak_files: u64,
    health_checks: u64,
    health_failures: u64,
    health_slowest: Duration,
}

/// Samples the server's RSS and open files, and `/api/health`, until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Sampled>,
}

impl Sampler {
    fn start(server: &Server) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let pid = server.pid();
        let health = format!("{}/api/health", server.base_url());
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client");
            let mut sampled = Sampled::default();
            while !flag.load(Ordering::Relaxed) {
                sampled.peak_rss = sampled
                    .peak_rss
                    .max(server::rss_of(&format!("/proc/{pid}/status")));
                sampled.peak_files = sampled.peak_files.max(open_files(pid));
                let started = Instant::now();
                let ok = http
                    .get(&health)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                sampled.health_checks += 1;
                sampled.health_failures += u64::from(!ok);
                sampled.health_slowest = sampled.health_slowest.max(started.elapsed());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            sampled
        });
        Sampler { stop, task }
    }

    async fn finish(self) -> anyhow::Result<Sampled> {
        self.stop.store(true, Ordering::Relaxed);
        Ok(self.task.await?)
    }
}

fn open_files(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count() as u64)
}

/// The legitimate patient, during an attack: logs in from their own address, opens a socket,
/// sends one message and waits for its ack.
async fn legitimate_user(
    server: &Server,
    conversation: ConversationId,
) -> Result<Duration, String> {
    let started = Instant::now();
    let http = reqwest::Client::new();
    // From an address of its own (`client::login`), not the attacker's.
    let session = client::login(&http, &server.base_url(), LEGIT, server::PASSWORD)
        .await
        .map_err(|e| format!("login: {e}"))?;
    let socket = Socket::connect(&server.ws_url(), &session)
        .await
        .map_err(|e| format!("socket: {e}"))?;
    let tracker = Tracker::new();
    socket.track(&tracker);
    socket.send(conversation, &tracker, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tracker.acked.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(100), socket.acked.notified()).await;
    }
    socket.close();
    if tracker.acked.load(Ordering::Relaxed) == 1 {
        Ok(started.elapsed())
    } else {
        Err("the message was not acked within 20 s".to_owned())
    }
}

async fn login_from(
    http: &reqwest::Client,
    base: &str,
    from: &str,
    email: &str,
    password: &str,
) -> u16 {
    http.post(format!("{base}/api/auth/login"))
        .header("x-forwarded-for", from)
        .json(&LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        })
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// "401 × 5, 429 × 195".
fn tally(statuses: &[u16]) -> String {
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for status in statuses {
        match counts.iter_mut().find(|(s, _)| s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((*status, 1)),
        }
    }
    counts.sort_unstable();
    counts
        .iter()
        .map(|(status, n)| {
            if *status == 0 {
                format!("no answer × {n}")
            } else {
                format!("{status} × {n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One attack's figures, as rows.
struct Outcome {
    name: String,
    tried: String,
    answered: String,
    rss: (u64, u64, u64),
    files: (u64, u64, u64),
    sampled: Sampled,
    legit: Result<Duration, String>,
}

impl Outcome {
    fn report(&self, report: &mut Report) {
        let (before, _, after) = self.rss;
        report.row(&self.name, self.tried.clone(), "");
        report.row("  the server answered", self.answered.clone(), "");
        report.row(
            "  RSS before → peak → after",
            format!(
                "{} → {} → {} ({:+.1} MB)",
                mb(before),
                mb(self.rss.1.max(self.sampled.peak_rss)),
                mb(after),
                (after as f64 - before as f64) / 1e6
            ),
            "after within 50 MB of before",
        );
        report.row(
            "  open files before → peak → after",
            format!(
                "{} → {} → {}",
                self.files.0,
                self.files.1.max(self.sampled.peak_files),
                self.files.2
            ),
            "",
        );
        report.row(
            "  /api/health during it",
            format!(
                "{} of {} answered, slowest {} ms",
                self.sampled.health_checks - self.sampled.health_failures,
                self.sampled.health_checks,
                self.sampled.health_slowest.as_millis()
            ),
            "all",
        );
        report.row(
            "  a legitimate patient logs in and sends, during it",
            match &self.legit {
                Ok(took) => format!("yes, acked in {} ms", took.as_millis()),
                Err(why) => format!("NO: {why}"),
            },
            "yes",
        );
    }

    fn json(&self) -> serde_json::Value {
        json!({"name": self.name, "tried": self.tried, "answered": self.answered,
            "rss_before": self.rss.0, "rss_peak": self.rss.1.max(self.sampled.peak_rss),
            "rss_after": self.rss.2, "files_before": self.files.0,
            "files_peak": self.files.1.max(self.sampled.peak_files), "files_after": self.files.2,
            "health_checks": self.sampled.health_checks,
            "health_failures": self.sampled.health_failures,
            "legit_ok": self.legit.is_ok()})
    }
}

/// Waits until the server's open files are back to `baseline` (plus a few), at most `limit`.
async fn settle(server: &Server, baseline: u64, limit: Duration) {
    let deadline = Instant::now() + limit;
    while open_files(server.pid()) > baseline + 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let the allocator hand back what the closed sockets held.
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Opens `count` sockets that upgrade, then send junk frames and never read; from
/// `addresses(i)`. Returns the upgrade answers (101 or the refusal's status) and the tasks
/// that hold the accepted ones.
async fn socket_flood(
    server: &Server,
    count: usize,
    address: impl Fn(usize) -> String,
) -> (Vec<u16>, Vec<tokio::task::JoinHandle<()>>) {
    let url = server.ws_url();
    let port = port_of(&server.base_url()).unwrap_or(0);
    let mut statuses = Vec::with_capacity(count);
    let mut holders = Vec::new();
    for index in 0..count {
        let Ok(tcp) = tokio::net::TcpSocket::new_v4() else {
            statuses.push(0);
            continue;
        };
        let _ = tcp.set_recv_buffer_size(4096);
        let Ok(stream) = tcp.connect(([127, 0, 0, 1], port).into()).await else {
            statuses.push(0);
            continue;
        };
        let Ok(mut request) = url.as_str().into_client_request() else {
            statuses.push(0);
            continue;
        };
        if let Ok(value) = address(index).parse() {
            request.headers_mut().insert("x-forwarded-for", value);
        }
        match tokio_tungstenite::client_async(request, stream).await {
            Ok((socket, _)) => {
                statuses.push(101);
                holders.push(tokio::spawn(async move {
                    let (mut sink, _never_read) = socket.split();
                    for _ in 0..2_000 {
                        let sent = tokio::time::timeout(
                            Duration::from_secs(30),
                            sink.send(WsMessage::text("{\"type\":\"junk\"}")),
                        )
                        .await;
                        if !matches!(sent, Ok(Ok(()))) {
                            break;
                        }
                    }
                    // Hold it, never reading, until the server lets go or the run moves on.
                    tokio::time::sleep(Duration::from_secs(40)).await;
                }));
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                statuses.push(response.status().as_u16());
            }
            Err(_) => statuses.push(0),
        }
    }
    (statuses, holders)
}

/// Runs every attack and adds its rows to `report`.
pub async fn run(server_bin: &Path, work: &Path, report: &mut Report) -> anyhow::Result<()> {
    let server = Server::start(
        server_bin,
        &work.join("attack"),
        &[(&accounts(), HashCost::Owasp)],
    )
    .await?;
    let http = reqwest::Client::new();
    let base = server.base_url();
    // The legitimate patient's conversation with their doctor.
    let legit = client::login(&http, &base, LEGIT, server::PASSWORD).await?;
    let doctor = client::login(&http, &base, DOCTOR, server::PASSWORD).await?;
    let conversation = client::start_conversation(&http, &base, &legit, doctor.user).await?;
    let mut outcomes = Vec::new();

    type Attack<'a> = (
        &'a str,
        Box<
            dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = (String, String)> + 'a>>
                + 'a,
        >,
    );
    let srv = &server;
    let base_ref = base.as_str();
    let http_ref = &http;
    let attacks: Vec<Attack> = vec![
        (
            "socket flood, many addresses: upgrade, send junk, never read",
            Box::new(move || {
                Box::pin(async move {
                    let (statuses, holders) = socket_flood(srv, FLOOD_SOCKETS, |i| {
                        format!("10.{}.{}.{}", i / 65_536 % 256, i / 256 % 256, i % 256)
                    })
                    .await;
                    // Past the 10 s deadline the server drops them all, reading or not.
                    tokio::time::sleep(Duration::from_secs(12)).await;
                    for holder in holders {
                        holder.abort();
                    }
                    (
                        format!("{FLOOD_SOCKETS} sockets from {FLOOD_SOCKETS} addresses"),
                        format!("upgrade: {}", tally(&statuses)),
                    )
                })
            }),
        ),
        (
            "socket flood, one address: upgrade, send junk, never read",
            Box::new(move || {
                Box::pin(async move {
                    let (statuses, holders) =
                        socket_flood(srv, FLOOD_SOCKETS, |_| ATTACKER.to_owned()).await;
                    tokio::time::sleep(Duration::from_secs(12)).await;
                    for holder in holders {
                        holder.abort();
                    }
                    (
                        format!("{FLOOD_SOCKETS} sockets from one address"),
                        format!("upgrade: {}", tally(&statuses)),
                    )
                })
            }),
        ),
        (
            "login flood on one account from one address, in parallel",
            Box::new(move || {
                Box::pin(async move {
                    let guesses = (0..200).map(|_| {
                        login_from(http_ref, base_ref, ATTACKER, TARGET, "wrong password")
                    });
                    let statuses = futures_util::future::join_all(guesses).await;
                    let neighbour =
                        login_from(http_ref, base_ref, ATTACKER, LEGIT, server::PASSWORD).await;
                    let owner =
                        login_from(http_ref, base_ref, "192.0.2.44", TARGET, server::PASSWORD)
                            .await;
                    (
                        "200 wrong passwords for one account, all at once".to_owned(),
                        format!(
                            "{}; then, from that address, another patient's right password: \
                             {neighbour}; the account's owner from her own address: {owner}",
                            tally(&statuses)
                        ),
                    )
                })
            }),
        ),
        (
            "credential stuffing from one address",
            Box::new(move || {
                Box::pin(async move {
                    let mut statuses = Vec::new();
                    for n in 0..300 {
                        let email = format!("leaked{n}@example.org");
                        statuses.push(
                            login_from(http_ref, base_ref, ATTACKER, &email, "leaked password")
                                .await,
                        );
                    }
                    (
                        "300 leaked email/password pairs, one after the other".to_owned(),
                        tally(&statuses),
                    )
                })
            }),
        ),
        (
            "login burst: 200 concurrent right passwords (argon2id, OWASP cost)",
            Box::new(move || {
                Box::pin(async move {
                    let started = Instant::now();
                    let logins = (0..BURST).map(|b| async move {
                        login_from(
                            http_ref,
                            base_ref,
                            &format!("192.0.2.{}", b % 250),
                            &format!("shift{b}@attack.test"),
                            server::PASSWORD,
                        )
                        .await
                    });
                    let statuses = futures_util::future::join_all(logins).await;
                    (
                        format!("{BURST} people starting their shift"),
                        format!(
                            "{} in {:.1} s",
                            tally(&statuses),
                            started.elapsed().as_secs_f64()
                        ),
                    )
                })
            }),
        ),
    ];

    for (name, attack) in &attacks {
        eprintln!("==> attack: {name}");
        let rss_before = server.rss();
        let files_before = open_files(server.pid());
        let sampler = Sampler::start(&server);
        let attacking = attack();
        let legit_probe = async {
            // Once the attack is under way.
            tokio::time::sleep(Duration::from_secs(1)).await;
            legitimate_user(&server, conversation).await
        };
        let ((tried, answered), legit) = tokio::join!(attacking, legit_probe);
        let rss_peak = server.rss();
        let files_peak = open_files(server.pid());
        let sampled = sampler.finish().await?;
        settle(&server, files_before, Duration::from_secs(20)).await;
        outcomes.push(Outcome {
            name: (*name).to_owned(),
            tried,
            answered,
            rss: (rss_before, rss_peak, server.rss()),
            files: (files_before, files_peak, open_files(server.pid())),
            sampled,
            legit,
        });
    }
    drop(attacks);
    server.stop().await;
    for outcome in &outcomes {
        outcome.report(report);
    }
    report.value(
        "attacks",
        json!(outcomes.iter().map(Outcome::json).collect::<Vec<_>>()),
    );
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.legit.is_err() || o.sampled.health_failures > 0)
        .map(|o| o.name.as_str())
        .collect();
    anyhow::ensure!(
        failed.is_empty(),
        "a legitimate user or /api/health failed during: {}",
        failed.join("; ")
    );
    Ok(())
}

/// The port of a base URL, for raw connections.
fn port_of(base: &str) -> anyhow::Result<u16> {
    base.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .context("a port in the base URL")
}
