//! What a phase's tracker adds up to: losses, duplicates, latency histograms, timelines, and
//! the server logs' warnings.

use crate::client::{DuplicateKind, Times, Tracker};
use crate::report::{Report, thousands};
use anyhow::Context;
use colloque_testbed::Cluster;
use hdrhistogram::Histogram;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// With `COLLOQUE_BENCH_TIMELINE=DIR`: every message of the phase in `DIR/<phase>.csv`, one
/// line each: sent, acked and delivered, in milliseconds since the phase started (for a look at
/// when the slow ones were sent).
pub(super) fn write_timeline(
    phase: &str,
    started: Instant,
    tracker: &Tracker,
) -> anyhow::Result<()> {
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
pub(super) fn losses(tracker: &Tracker) -> String {
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

pub(super) fn seconds(durations: &[Option<Duration>]) -> Vec<Option<f64>> {
    durations
        .iter()
        .map(|d| d.map(|d| d.as_secs_f64()))
        .collect()
}

/// Second acks and second pushes of a message, echoes to its sender left apart ([`losses`]).
pub(super) fn duplicated(tracker: &Tracker) -> usize {
    tracker
        .duplicate_log()
        .iter()
        .filter(|d| d.kind != DuplicateKind::PushToSender)
        .count()
}

/// The duplicates by kind, as JSON.
pub(super) fn duplicate_kinds(tracker: &Tracker) -> serde_json::Value {
    let log = tracker.duplicate_log();
    let count = |kind| log.iter().filter(|d| d.kind == kind).count();
    json!({"pushed_twice_on_one_socket": count(DuplicateKind::PushTwiceOnOneSocket),
        "echoed_to_sender": count(DuplicateKind::PushToSender),
        "pushed_to_another_socket": count(DuplicateKind::PushOnAnotherSocket),
        "acked_twice": count(DuplicateKind::Ack)})
}

/// A histogram (µs) of durations.
pub(super) fn histogram(durations: impl Iterator<Item = Duration>) -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds");
    for duration in durations {
        let _ = histogram.record(duration.as_micros().max(1) as u64);
    }
    histogram
}

/// The warnings and errors each instance logged, echoed to stderr and counted in the table.
pub(super) fn report_logs(cluster: &Cluster, report: &mut Report) {
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
