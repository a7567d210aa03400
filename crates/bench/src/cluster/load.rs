//! The sustained phase (a fixed offered rate) and the saturation phase (closed loop).

use super::connect::Population;
use super::procs::*;
use super::shared::*;
use super::tally::*;
use crate::client::Tracker;
use crate::report::{Report, percentiles, percentiles_text, thousands};
use crate::scenarios::{self, DRAIN};
use colloque_testbed::Cluster;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Sends `rate` messages a second for `duration`, round robin over the patients from patient
/// `first`, on schedule whatever the acks do (an open loop). Returns how many were sent.
pub(super) async fn open_loop(
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
pub(super) async fn sustained(
    cluster: &Cluster,
    bench: &Bench,
    population: &Population,
    sizes: &Sizes,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tracker = Tracker::recording();
    population.track(&tracker);
    reset_statements(cluster, bench);
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
    let statements = statements_per_message(cluster, bench, acked_in_window);
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
            "postgres_statements_per_message": statements,
            "instances_cpu_ms_per_message": instances_ms,
            "postgres_cpu_ms_per_message": postgres_ms}),
    );
    Ok(())
}

/// Phase 3: every patient sends again as soon as its previous message is acked.
pub(super) async fn saturation(
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
