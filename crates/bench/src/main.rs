//! `colloque-bench`: the load benchmark behind `cargo xtask bench`.
//!
//! It starts release `colloque-server` processes on loopback ports with throw-away data
//! directories, creates their accounts with `import-users` (one password hash for all), drives
//! them with real WebSocket and REST clients, and prints one table (also written as JSON):
//! connected users and memory, fixed send rates, saturation, catch-up, a login burst, idle
//! sockets at scale, and the disk's own fsynced-commit limit. Each figure is measured, never
//! assumed; the load generator reports its own CPU so a reader can tell which side was the
//! bottleneck.
//!
//! With `--dist DIR` (the release app) it also measures the app: its first load with
//! Lighthouse (`--lighthouse CLI`), and a 10,000-message conversation in headless Chromium
//! (`--chromium PATH`).
//!
//! Usage: `colloque-bench [--quick] [--app-only] [--server-bin PATH] [--out FILE.json]
//! [--dist DIR [--lighthouse CLI] [--chromium PATH]]` (`--app-only`: the app's figures alone,
//! written to `target/bench/app.json` unless `--out`).
//!
//! `colloque-bench attachments`: 10 MB uploads, alone and ten at once ([`attachments`]).
//!
//! Two other runs: `colloque-bench attack` (the attacks of issue 10, [`attack`]) and
//! `colloque-bench cluster [--quick]` (three instances on PostgreSQL and NATS, [`cluster`]).

mod attachments;
mod attack;
mod cdp;
mod client;
mod cluster;
mod lighthouse;
mod long_thread;
mod report;
mod scenarios;
mod server;

use anyhow::Context;
use report::Report;
use scenarios::Sizes;
use server::{HashCost, Server};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("attack") {
        return attack_main(args.skip(1)).await;
    }
    if args.peek().map(String::as_str) == Some("attachments") {
        return attachments_main(args.skip(1)).await;
    }
    if args.peek().map(String::as_str) == Some("cluster") {
        return cluster_main(args.skip(1)).await;
    }
    let mut quick = false;
    let mut app_only = false;
    let mut server_bin = std::env::current_exe()?.with_file_name("colloque-server");
    let mut out: Option<PathBuf> = None;
    let mut lighthouse_cli: Option<PathBuf> = None;
    let mut dist: Option<PathBuf> = None;
    let mut chromium: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--app-only" => app_only = true,
            "--server-bin" => server_bin = args.next().context("--server-bin PATH")?.into(),
            "--out" => out = Some(args.next().context("--out FILE")?.into()),
            "--lighthouse" => {
                lighthouse_cli = Some(args.next().context("--lighthouse CLI")?.into())
            }
            "--dist" => dist = Some(args.next().context("--dist DIR")?.into()),
            "--chromium" => chromium = Some(args.next().context("--chromium PATH")?.into()),
            other => anyhow::bail!(
                "unknown argument {other:?}; usage: colloque-bench [--quick] [--server-bin PATH] \
                 [--out FILE] [--dist DIR [--lighthouse CLI] [--chromium PATH]]"
            ),
        }
    }
    let sizes = if quick {
        Sizes {
            patients: 50,
            doctors: 5,
            rates: vec![100],
            phase: Duration::from_secs(2),
            catch_up: 500,
            burst: 20,
            idle_users: 200,
        }
    } else {
        Sizes {
            patients: 500,
            doctors: 50,
            rates: vec![100, 500, 2000],
            phase: Duration::from_secs(10),
            catch_up: 10_000,
            burst: 200,
            idle_users: 10_000,
        }
    };
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("colloque-bench-")
        .tempdir()
        .context("a temporary directory")?;
    let mut report = Report::default();
    report.value("sizes", serde_json::json!(format!("{sizes:?}")));
    report.value(
        "cores",
        serde_json::json!(std::thread::available_parallelism().map_or(0, usize::from)),
    );

    if !app_only {
        server_phases(&server_bin, work.path(), &sizes, &mut report).await?;
    }

    if let Some(cli) = &lighthouse_cli {
        let dist = dist.as_deref().context("--lighthouse needs --dist DIR")?;
        step("first load of the app: Lighthouse, mobile");
        lighthouse::first_load(&server_bin, dist, cli, work.path(), &mut report).await?;
    }
    if let Some(chromium) = &chromium {
        let dist = dist.as_deref().context("--chromium needs --dist DIR")?;
        step("the app on a 10,000-message conversation: headless Chromium");
        long_thread::long_thread(
            &server_bin,
            dist,
            chromium,
            work.path(),
            10_000,
            &mut report,
        )
        .await?;
    }

    report.value(
        "total_secs",
        serde_json::json!(started.elapsed().as_secs_f64()),
    );
    let out = out.unwrap_or_else(|| {
        PathBuf::from(if app_only {
            "target/bench/app.json"
        } else {
            "target/bench/server.json"
        })
    });
    write_report(&report, &out)?;
    eprintln!(
        "\nwrote {} in {:.0} s (data directories were under {})",
        out.display(),
        started.elapsed().as_secs_f64(),
        work.path().display()
    );
    Ok(())
}

/// Everything measured on the server alone: the disk's limit, then the main server's phases,
/// then the idle sockets at scale.
async fn server_phases(
    server_bin: &std::path::Path,
    work: &std::path::Path,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<()> {
    step("the disk's fsynced-commit limit");
    let fsync = scenarios::fsync_commits(work, report).await?;

    step("main server: importing accounts and starting");
    let main_dir = work.join("main");
    let main_accounts = scenarios::main_accounts(sizes);
    let burst_accounts = scenarios::burst_accounts(sizes);
    let server = Server::start(
        server_bin,
        &main_dir,
        &[
            (&main_accounts, HashCost::Benchmark),
            (&burst_accounts, HashCost::Owasp),
        ],
    )
    .await?;
    eprintln!("    {} (pid {})", server.binary().display(), server.pid());

    step(&format!(
        "connected: {} patients + {} doctors",
        sizes.patients, sizes.doctors
    ));
    let population = scenarios::connected(&server, sizes, report).await?;
    for &rate in &sizes.rates {
        step(&format!("fixed rate: {rate} msg/s for {:?}", sizes.phase));
        scenarios::fixed_rate(&server, &population, rate, sizes.phase, report).await?;
    }
    step(&format!("saturation for {:?}", sizes.phase));
    scenarios::saturation(&server, &population, sizes.phase, fsync, report).await?;
    step(&format!("catch-up of {} messages", sizes.catch_up));
    scenarios::catch_up(&server, &population, sizes.catch_up, report).await?;
    scenarios::close(population);
    tokio::time::sleep(Duration::from_secs(1)).await;
    step(&format!("login burst: {} concurrent logins", sizes.burst));
    scenarios::login_burst(&server, sizes.burst, report).await?;
    server.stop().await;

    step(&format!("idle sockets: {} users", sizes.idle_users));
    let idle_accounts = scenarios::idle_accounts(sizes);
    let idle = Server::start(
        server_bin,
        &work.join("idle"),
        &[(&idle_accounts, HashCost::Benchmark)],
    )
    .await?;
    scenarios::idle_sockets(&idle, sizes.idle_users, report).await?;
    idle.stop().await;

    Ok(())
}

/// `colloque-bench attack [--server-bin PATH] [--out FILE.json]`: the attack run
/// ([`attack`]), written to `target/bench/attack.json`.
async fn attack_main(mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let mut server_bin = std::env::current_exe()?.with_file_name("colloque-server");
    let mut out = PathBuf::from("target/bench/attack.json");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server-bin" => server_bin = args.next().context("--server-bin PATH")?.into(),
            "--out" => out = args.next().context("--out FILE")?.into(),
            other => anyhow::bail!(
                "unknown argument {other:?}; usage: colloque-bench attack [--server-bin PATH] [--out FILE]"
            ),
        }
    }
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("colloque-attack-")
        .tempdir()
        .context("a temporary directory")?;
    let mut report = Report::default();
    let outcome = attack::run(&server_bin, work.path(), &mut report).await;
    write_report(&report, &out)?;
    eprintln!(
        "\nwrote {} in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    outcome
}

/// `colloque-bench attachments [--server-bin PATH] [--out FILE.json]`: uploads of 10 MB
/// files ([`attachments`]), written to `target/bench/attachments.json`.
async fn attachments_main(mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let mut server_bin = std::env::current_exe()?.with_file_name("colloque-server");
    let mut out = PathBuf::from("target/bench/attachments.json");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server-bin" => server_bin = args.next().context("--server-bin PATH")?.into(),
            "--out" => out = args.next().context("--out FILE")?.into(),
            other => anyhow::bail!(
                "unknown argument {other:?}; usage: colloque-bench attachments [--server-bin PATH] [--out FILE]"
            ),
        }
    }
    let work = tempfile::Builder::new()
        .prefix("colloque-attachments-")
        .tempdir()
        .context("a temporary directory")?;
    let mut report = Report::default();
    step("attachments: 10 MB uploads over loopback");
    let outcome = attachments::run(&server_bin, work.path(), &mut report).await;
    write_report(&report, &out)?;
    outcome
}

/// `colloque-bench cluster [--quick] [--statements] [--server-bin PATH] [--out FILE.json]`:
/// three instances on PostgreSQL and NATS ([`cluster`]), written to `target/bench/cluster.json`;
/// `--statements`: which SQL statements a message costs (`pg_stat_statements`).
async fn cluster_main(mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let mut quick = false;
    let mut statements = false;
    let mut server_bin = std::env::current_exe()?.with_file_name("colloque-server");
    let mut out = PathBuf::from("target/bench/cluster.json");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--statements" => statements = true,
            "--server-bin" => server_bin = args.next().context("--server-bin PATH")?.into(),
            "--out" => out = args.next().context("--out FILE")?.into(),
            other => anyhow::bail!(
                "unknown argument {other:?}; usage: colloque-bench cluster [--quick] \
                 [--statements] [--server-bin PATH] [--out FILE]"
            ),
        }
    }
    let sizes = cluster::Sizes::new(quick);
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("colloque-bench-cluster-")
        .tempdir()
        .context("a temporary directory")?;
    let mut report = Report::default();
    report.value("sizes", serde_json::json!(format!("{sizes:?}")));
    report.value(
        "cores",
        serde_json::json!(std::thread::available_parallelism().map_or(0, usize::from)),
    );
    let outcome = cluster::run(&server_bin, work.path(), &sizes, statements, &mut report).await;
    report.value(
        "total_secs",
        serde_json::json!(started.elapsed().as_secs_f64()),
    );
    write_report(&report, &out)?;
    eprintln!(
        "\nwrote {} in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    outcome
}

/// Prints the table and writes the same figures as JSON to `out`.
fn write_report(report: &Report, out: &std::path::Path) -> anyhow::Result<()> {
    println!();
    report.print();
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&report.to_json())?)?;
    Ok(())
}

fn step(what: &str) {
    eprintln!("==> {what}");
}
