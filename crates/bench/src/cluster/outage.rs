//! The NATS outage phase: NATS is killed while the patients send, then started again.

use super::connect::Population;
use super::load::open_loop;
use super::shared::*;
use super::tally::*;
use crate::client::{Times, Tracker};
use crate::report::{Report, percentiles, percentiles_text, secs, thousands};
use crate::scenarios::{self, DRAIN};
use colloque_testbed::Cluster;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// When each instance saw the bus go down, then come back.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct BusWatch {
    pub(super) down: Option<Instant>,
    pub(super) up_again: Option<Instant>,
}

/// Polls each instance's `colloque_bus_up` every 20 ms until `stop`.
pub(super) async fn watch_bus(
    http: reqwest::Client,
    ports: Vec<u16>,
    stop: Arc<AtomicBool>,
) -> Vec<BusWatch> {
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
pub(super) async fn outage(
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
