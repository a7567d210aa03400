//! The scenarios of `cargo xtask bench`, each adding its figures to the [`Report`].

use crate::client::{self, Session, Socket, Tracker};
use crate::report::{Report, format_ms, mb, percentiles, percentiles_text, secs};
use crate::server::{self, Server};
use colloque_protocol::ConversationId;
use futures_util::{StreamExt, stream};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The sizes of one run.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Patients, each with one conversation with one doctor.
    pub patients: usize,
    /// Doctors.
    pub doctors: usize,
    /// Fixed send rates, msg/s.
    pub rates: Vec<u32>,
    /// How long each fixed-rate and saturation phase sends.
    pub phase: Duration,
    /// Messages missed by the catching-up client.
    pub catch_up: usize,
    /// Concurrent logins of the burst.
    pub burst: usize,
    /// Users of the idle-sockets run.
    pub idle_users: usize,
}

/// The users of the main server, logged in, with their conversations and sockets.
pub struct Population {
    patients: Vec<(Session, ConversationId)>,
    doctors: Vec<Session>,
    patient_sockets: Vec<Socket>,
    doctor_sockets: Vec<Socket>,
    catch_up: (Session, Session, ConversationId),
}

/// The import file of the main server.
pub fn main_accounts(sizes: &Sizes) -> String {
    let mut lines = Vec::new();
    for d in 0..sizes.doctors {
        lines.push(
            json!({"kind": "user", "role": "doctor", "email": format!("d{d}@bench.test"),
            "name": format!("Dr Banc {d}"), "speciality": "Généraliste"}),
        );
    }
    for p in 0..sizes.patients {
        lines.push(
            json!({"kind": "user", "role": "patient", "email": format!("p{p}@bench.test"),
            "name": format!("Patient {p}")}),
        );
        lines.push(
            json!({"kind": "link", "doctor": format!("d{}@bench.test", p % sizes.doctors),
            "patient": format!("p{p}@bench.test")}),
        );
    }
    lines.push(
        json!({"kind": "user", "role": "doctor", "email": "catchup-d@bench.test",
        "name": "Dr Rattrapage"}),
    );
    lines.push(
        json!({"kind": "user", "role": "patient", "email": "catchup-p@bench.test",
        "name": "Patient Rattrapage"}),
    );
    lines.push(json!({"kind": "link", "doctor": "catchup-d@bench.test",
        "patient": "catchup-p@bench.test"}));
    join(lines)
}

/// Accounts hashed at the production cost, for the login burst.
pub fn burst_accounts(sizes: &Sizes) -> String {
    join(
        (0..sizes.burst)
            .map(|b| {
                json!({"kind": "user", "role": "patient",
                "email": format!("burst{b}@bench.test"), "name": format!("Rafale {b}")})
            })
            .collect(),
    )
}

/// The import file of the idle-sockets server.
pub fn idle_accounts(sizes: &Sizes) -> String {
    join(
        (0..sizes.idle_users)
            .map(|i| {
                json!({"kind": "user", "role": "patient",
                "email": format!("idle{i}@bench.test"), "name": format!("Veille {i}")})
            })
            .collect(),
    )
}

fn join(lines: Vec<serde_json::Value>) -> String {
    lines.iter().map(|line| line.to_string() + "\n").collect()
}

/// Logs `emails` in at `base`, `concurrency` at a time, in order.
pub async fn login_all(
    http: &reqwest::Client,
    base: &str,
    emails: Vec<String>,
    concurrency: usize,
) -> anyhow::Result<Vec<Session>> {
    stream::iter(emails)
        .map(|email| async move { client::login(http, base, &email, server::PASSWORD).await })
        .buffered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Opens one authenticated socket per session at `url`, `concurrency` at a time, in order.
pub async fn connect_all(
    url: &str,
    sessions: &[Session],
    concurrency: usize,
) -> anyhow::Result<Vec<Socket>> {
    stream::iter(sessions)
        .map(|session| Socket::connect(url, session))
        .buffered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Connected: log everyone in, then open one socket each; memory and idle CPU.
pub async fn connected(
    server: &Server,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<Population> {
    let http = reqwest::Client::new();
    let base = server.base_url();
    let doctors = login_all(
        &http,
        &base,
        (0..sizes.doctors)
            .map(|d| format!("d{d}@bench.test"))
            .collect(),
        16,
    )
    .await?;
    let patient_sessions = login_all(
        &http,
        &base,
        (0..sizes.patients)
            .map(|p| format!("p{p}@bench.test"))
            .collect(),
        16,
    )
    .await?;
    let mut patients = Vec::with_capacity(patient_sessions.len());
    for (p, session) in patient_sessions.into_iter().enumerate() {
        let doctor = doctors[p % sizes.doctors].user;
        let conversation = client::start_conversation(&http, &base, &session, doctor).await?;
        patients.push((session, conversation));
    }
    let catch_doctor =
        client::login(&http, &base, "catchup-d@bench.test", server::PASSWORD).await?;
    let catch_patient =
        client::login(&http, &base, "catchup-p@bench.test", server::PASSWORD).await?;
    let catch_conversation =
        client::start_conversation(&http, &base, &catch_patient, catch_doctor.user).await?;

    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.rss();
    let url = server.ws_url();
    let started = Instant::now();
    let doctor_sockets = connect_all(&url, &doctors, 32).await?;
    let sessions: Vec<Session> = patients.iter().map(|(s, _)| s.clone()).collect();
    let patient_sockets = connect_all(&url, &sessions, 32).await?;
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss();
    let users = (sizes.patients + sizes.doctors) as u64;
    let per_user = after.saturating_sub(before) / users;

    let idle = Duration::from_secs(5);
    let cpu_before = server.cpu();
    tokio::time::sleep(idle).await;
    let idle_cpu = (server.cpu() - cpu_before).as_secs_f64() / idle.as_secs_f64() * 100.0;

    report.row(
        &format!("connected: RSS before → after {users} sockets"),
        format!("{} → {}", mb(before), mb(after)),
        "",
    );
    report.row(
        "memory per connected user",
        format!("{:.1} KB", per_user as f64 / 1e3),
        "≤ 30 KB",
    );
    report.row(
        "connected: idle server CPU",
        format!("{idle_cpu:.2} % of one core"),
        "",
    );
    report.value(
        "connected",
        json!({"users": users, "rss_before": before, "rss_after": after,
            "bytes_per_user": per_user, "connect_secs": connect_time.as_secs_f64(),
            "idle_cpu_percent": idle_cpu}),
    );
    Ok(Population {
        patients,
        doctors,
        patient_sockets,
        doctor_sockets,
        catch_up: (catch_patient, catch_doctor, catch_conversation),
    })
}

fn track_all(population: &Population, tracker: &Arc<Tracker>) {
    for socket in population
        .patient_sockets
        .iter()
        .chain(&population.doctor_sockets)
    {
        socket.track(tracker);
    }
}

/// How long a phase waits, after its last send, for the acks and pushes still due. A message
/// neither acked nor pushed by then counts as lost; what arrives later is counted as a stray by
/// the next phase, not as a duplicate.
pub const DRAIN: Duration = Duration::from_secs(60);

/// Waits until every sent message is acked and delivered, at most `limit`.
pub async fn drain(tracker: &Tracker, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if tracker.missing() == (0, 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Fixed rate: the patients send `rate` messages a second in all, round robin.
pub async fn fixed_rate(
    server: &Server,
    population: &Population,
    rate: u32,
    phase: Duration,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tracker = Tracker::new();
    track_all(population, &tracker);
    let total = (f64::from(rate) * phase.as_secs_f64()) as u64;
    let (cpu0, own0) = (server.cpu(), server::own_cpu());
    let started = tokio::time::Instant::now();
    for index in 0..total {
        let at = started + Duration::from_secs_f64(index as f64 / f64::from(rate));
        tokio::time::sleep_until(at).await;
        let (_, conversation) = &population.patients[index as usize % population.patients.len()];
        population.patient_sockets[index as usize % population.patient_sockets.len()].send(
            *conversation,
            &tracker,
            index,
        );
    }
    drain(&tracker, DRAIN).await;
    let (cpu, own) = (server.cpu() - cpu0, server::own_cpu() - own0);
    let acked = tracker.acked.load(Ordering::Relaxed);
    let (lost, undelivered) = tracker.missing();
    let duplicates = tracker.duplicates.load(Ordering::Relaxed);
    let cpu_per_message = cpu.as_secs_f64() * 1000.0 / acked.max(1) as f64;
    let ack = tracker.ack.lock().unwrap().clone();
    let delivered = tracker.delivered.lock().unwrap().clone();
    let name = format!("{rate} msg/s");
    report.row(
        &format!("{name}: send → ack"),
        percentiles_text(&ack),
        if rate == 2000 { "p99 < 50 ms" } else { "" },
    );
    report.row(
        &format!("{name}: send → delivered to the doctor"),
        percentiles_text(&delivered),
        "",
    );
    report.row(
        &format!("{name}: lost / undelivered / duplicated"),
        format!("{lost} / {undelivered} / {duplicates} of {total}"),
        "0 / 0 / 0",
    );
    report.row(
        &format!("{name}: server CPU per message"),
        format!(
            "{} ms (load generator: {} ms)",
            format_ms_precise(cpu_per_message),
            format_ms_precise(own.as_secs_f64() * 1000.0 / acked.max(1) as f64)
        ),
        if rate == 500 { "≤ 0.2 ms" } else { "" },
    );
    report.value(
        &format!("rate_{rate}"),
        json!({"sent": total, "acked": acked, "lost": lost, "undelivered": undelivered,
            "duplicated": duplicates, "errors": tracker.errors.load(Ordering::Relaxed),
            "strays": tracker.strays.load(Ordering::Relaxed),
            "ack": percentiles(&ack), "delivered": percentiles(&delivered),
            "server_cpu_ms_per_1000": cpu_per_message * 1000.0,
            "generator_cpu_ms_per_1000": own.as_secs_f64() * 1e6 / acked.max(1) as f64}),
    );
    Ok(())
}

fn format_ms_precise(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3}")
    } else {
        format_ms(ms)
    }
}

/// Saturation: every patient sends again as soon as its previous message is acked.
pub async fn saturation(
    server: &Server,
    population: &Population,
    phase: Duration,
    fsync_commits: f64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tracker = Tracker::new();
    track_all(population, &tracker);
    let (cpu0, own0) = (server.cpu(), server::own_cpu());
    let started = Instant::now();
    let deadline = started + phase;
    let loops = population
        .patient_sockets
        .iter()
        .zip(&population.patients)
        .map(|(socket, (_, conversation))| socket.closed_loop(*conversation, &tracker, deadline));
    futures_util::future::join_all(loops).await;
    let elapsed = started.elapsed();
    let acked = tracker.acked.load(Ordering::Relaxed);
    let delivered = tracker.delivered_count.load(Ordering::Relaxed);
    drain(&tracker, DRAIN).await;
    let (cpu, own) = (server.cpu() - cpu0, server::own_cpu() - own0);
    let ack = tracker.ack.lock().unwrap().clone();
    let acked_rate = acked as f64 / elapsed.as_secs_f64();
    let delivered_rate = delivered as f64 / elapsed.as_secs_f64();
    let (lost, undelivered) = tracker.missing();
    let duplicates = tracker.duplicates.load(Ordering::Relaxed);
    report.row(
        "saturation: acked / delivered",
        format!(
            "{acked_rate:.0} / {delivered_rate:.0} msg/s ({:.0} % of the disk's fsynced commits/s)",
            acked_rate / fsync_commits.max(1.0) * 100.0
        ),
        "≥ 8,000 acked msg/s",
    );
    report.row("saturation: send → ack", percentiles_text(&ack), "");
    report.row(
        "saturation: lost / undelivered / duplicated",
        format!("{lost} / {undelivered} / {duplicates}"),
        "0 / 0 / 0",
    );
    report.row(
        "saturation: CPU server / load generator",
        format!(
            "{:.0} % / {:.0} % of one core",
            cpu.as_secs_f64() / elapsed.as_secs_f64() * 100.0,
            own.as_secs_f64() / elapsed.as_secs_f64() * 100.0
        ),
        "",
    );
    report.value(
        "saturation",
        json!({"acked_per_sec": acked_rate, "delivered_per_sec": delivered_rate,
            "ack": percentiles(&ack), "lost": lost, "undelivered": undelivered,
            "duplicated": duplicates,
            "server_cpu_percent": cpu.as_secs_f64() / elapsed.as_secs_f64() * 100.0,
            "generator_cpu_percent": own.as_secs_f64() / elapsed.as_secs_f64() * 100.0,
            "fraction_of_fsync_commits": acked_rate / fsync_commits.max(1.0)}),
    );
    Ok(())
}

/// Catch-up: a doctor offline while `count` messages arrive reconnects and pages through them.
pub async fn catch_up(
    server: &Server,
    population: &Population,
    count: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (patient, doctor, conversation) = &population.catch_up;
    let url = server.ws_url();
    let socket = Socket::connect(&url, patient).await?;
    client::send_acked(&socket, *conversation, count).await?;
    socket.close();

    let http = reqwest::Client::new();
    let base = server.base_url();
    let started = Instant::now();
    let doctor_socket = Socket::connect(&url, doctor).await?;
    let mut seqs = Vec::with_capacity(count);
    let mut after = 0;
    loop {
        let page = client::page_after(&http, &base, doctor, *conversation, after).await?;
        seqs.extend(page.messages.iter().map(|m| m.seq.0));
        after = page.messages.last().map_or(after, |m| m.seq.0);
        if !page.has_more {
            break;
        }
    }
    let elapsed = started.elapsed();
    doctor_socket.close();
    let expected: Vec<i64> = (1..=count as i64).collect();
    anyhow::ensure!(
        seqs == expected,
        "the catch-up did not give seqs 1..={count} once each"
    );
    report.row(
        &format!("catch-up of {count} missed messages (connect + REST pages of 100)"),
        secs(elapsed),
        "",
    );
    report.value(
        "catch_up",
        json!({"messages": count, "secs": elapsed.as_secs_f64()}),
    );
    Ok(())
}

/// Login burst: `count` concurrent logins of accounts hashed at the production cost.
pub async fn login_burst(server: &Server, count: usize, report: &mut Report) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = server.base_url();
    let before = server.rss();
    let pid = server.pid();
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(server::rss_of(&format!("/proc/{pid}/status")));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    let logins = (0..count).map(|b| {
        let (http, base) = (&http, &base);
        async move {
            client::login(
                http,
                base,
                &format!("burst{b}@bench.test"),
                server::PASSWORD,
            )
            .await
        }
    });
    let results = futures_util::future::join_all(logins).await;
    let elapsed = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    let peak = sampler.await?;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = server.rss();
    report.row(
        &format!("login burst: {count} concurrent logins"),
        format!("{} ({ok} succeeded)", secs(elapsed)),
        "",
    );
    report.row(
        "login burst: RSS before → peak → 3 s after",
        format!("{} → {} → {}", mb(before), mb(peak), mb(after)),
        "after within 50 MB of before",
    );
    report.value(
        "login_burst",
        json!({"logins": count, "succeeded": ok, "secs": elapsed.as_secs_f64(),
            "rss_before": before, "rss_peak": peak, "rss_after": after}),
    );
    Ok(())
}

/// Idle sockets at the scale one instance must hold, on a server of their own.
pub async fn idle_sockets(
    server: &Server,
    users: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = server.base_url();
    let started = Instant::now();
    let sessions = login_all(
        &http,
        &base,
        (0..users).map(|i| format!("idle{i}@bench.test")).collect(),
        32,
    )
    .await?;
    let login_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.rss();
    let started = Instant::now();
    let sockets = connect_all(&server.ws_url(), &sessions, 64).await?;
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = server.rss();
    let idle = Duration::from_secs(5);
    let cpu0 = server.cpu();
    tokio::time::sleep(idle).await;
    let idle_cpu = (server.cpu() - cpu0).as_secs_f64() / idle.as_secs_f64() * 100.0;
    let per_user = after.saturating_sub(before) / users as u64;
    report.row(
        &format!("{users} idle sockets: RSS before → after"),
        format!(
            "{} → {} ({:.1} KB each)",
            mb(before),
            mb(after),
            per_user as f64 / 1e3
        ),
        "≤ 30 KB each",
    );
    report.row(
        &format!("{users} idle sockets: idle server CPU"),
        format!("{idle_cpu:.2} % of one core"),
        "",
    );
    report.value(
        "idle_sockets",
        json!({"users": users, "rss_before": before, "rss_after": after,
            "bytes_per_user": per_user, "login_secs": login_time.as_secs_f64(),
            "connect_secs": connect_time.as_secs_f64(), "idle_cpu_percent": idle_cpu}),
    );
    for socket in sockets {
        socket.close();
    }
    Ok(())
}

/// The disk's own limit: fsynced single-row commits per second, with the server's SQLite
/// settings (WAL, `synchronous=FULL`), in the data directory.
pub async fn fsync_commits(dir: &std::path::Path, report: &mut Report) -> anyhow::Result<f64> {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let mut connection = SqliteConnectOptions::new()
        .filename(dir.join("fsync-probe.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&mut connection)
        .await?;
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        sqlx::query("INSERT INTO probe (body) VALUES (?1)")
            .bind("Message de test, sans contenu médical.")
            .execute(&mut connection)
            .await?;
        commits += 1;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    report.row(
        "this disk: fsynced single-row SQLite commits",
        format!("{rate:.0} commits/s"),
        "the machine's limit",
    );
    report.value("fsync_commits_per_sec", json!(rate));
    Ok(rate)
}

/// Closes every socket of the population.
pub fn close(population: Population) {
    for socket in population
        .patient_sockets
        .into_iter()
        .chain(population.doctor_sockets)
    {
        socket.close();
    }
    drop(population.doctors);
}
