//! CPU and memory of the run's processes, read from /proc (instances, PostgreSQL, NATS, the
//! generator and the machine).

use super::shared::Bench;
use colloque_testbed::Cluster;
use serde_json::json;
use std::time::{Duration, Instant};

/// CPU time of every process at one moment.
pub(super) struct CpuTimes {
    pub(super) at: Instant,
    pub(super) instances: Vec<Duration>,
    pub(super) postgres: Duration,
    pub(super) nats: Duration,
    pub(super) generator: Duration,
    /// Every process of the machine, this run's and others'.
    pub(super) machine: Duration,
}

/// The CPU used between two readings, as percentages of one core.
pub(super) struct CpuUse {
    pub(super) instances: Vec<f64>,
    pub(super) postgres: f64,
    pub(super) nats: f64,
    pub(super) generator: f64,
    /// The whole machine: a figure well above the run's own processes means something else
    /// was running.
    pub(super) machine: f64,
    /// Instances' CPU seconds in all.
    pub(super) instances_secs: f64,
    pub(super) postgres_secs: f64,
}

impl CpuTimes {
    pub(super) fn since(&self, before: &CpuTimes) -> CpuUse {
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
    pub(super) fn text(&self) -> String {
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

    pub(super) fn json(&self) -> serde_json::Value {
        json!({"instances_percent": self.instances, "postgres_percent": self.postgres,
            "nats_percent": self.nats, "generator_percent": self.generator,
            "machine_percent": self.machine})
    }
}

/// PostgreSQL's cumulative counters for the cluster's database: transactions, rows, WAL
/// records, bytes and syncs (`pg_stat_database`, `pg_stat_wal`).
pub(super) fn postgres_counters(cluster: &Cluster) -> Option<Vec<f64>> {
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
pub(super) async fn postgres_use(
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

/// The process named `program` (its `argv[0]` ends with it) started with `-p <port>`.
pub(super) fn listening_process(program: &str, port: u16) -> Option<u32> {
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

pub(super) fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect()
}

/// The fields of `/proc/<pid>/stat` after the command name (field 3, the state, first).
pub(super) fn stat_fields(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// `pid` and its children (one level: PostgreSQL's backends and helpers).
pub(super) fn process_tree(pid: u32) -> Vec<u32> {
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
pub(super) fn tree_cpu(pid: u32) -> Duration {
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
pub(super) fn machine_busy() -> Duration {
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
pub(super) fn pss_of(pid: u32) -> u64 {
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

/// Forgets what `pg_stat_statements` counted so far (with `--statements`).
pub(super) fn reset_statements(cluster: &Cluster, bench: &Bench) {
    if bench.statements {
        // The tables' counters too (and the database's, read again after this by the caller).
        let reset = "SELECT pg_stat_statements_reset(), pg_stat_reset()";
        let _ = tokio::task::block_in_place(|| {
            cluster.postgres.psql(colloque_testbed::DATABASE, reset)
        });
    }
}

/// The statements that cost the most database time since [`reset_statements`], per acked
/// message: calls, rows and milliseconds (with `--statements`; printed, and as JSON).
pub(super) fn statements_per_message(
    cluster: &Cluster,
    bench: &Bench,
    messages: u64,
) -> serde_json::Value {
    if !bench.statements {
        return serde_json::Value::Null;
    }
    let sql = format!(
        "SELECT calls, rows, round(total_exec_time::numeric, 1), \
         left(regexp_replace(query, '\\s+', ' ', 'g'), 150) \
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
         WHERE d.datname = '{}' ORDER BY total_exec_time DESC LIMIT 15",
        colloque_testbed::DATABASE
    );
    let Ok(out) =
        tokio::task::block_in_place(|| cluster.postgres.psql(colloque_testbed::DATABASE, &sql))
    else {
        return serde_json::Value::Null;
    };
    let per = |v: &str| v.trim().parse::<f64>().unwrap_or(0.0) / messages.max(1) as f64;
    eprintln!("    statements by database time, per acked message (calls, rows, ms):");
    let mut rows = Vec::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.splitn(4, '|').collect();
        let [calls, returned, ms, query] = fields[..] else {
            continue;
        };
        let (calls, returned, ms) = (per(calls), per(returned), per(ms));
        eprintln!("    {calls:>6.2} {returned:>7.2} {ms:>7.3}  {query}");
        rows.push(json!({"calls": calls, "rows": returned, "ms": ms, "query": query}));
    }
    let tables = format!(
        "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), \
         coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables \
         WHERE seq_tup_read + coalesce(idx_tup_fetch, 0) > {} \
         ORDER BY seq_tup_read + coalesce(idx_tup_fetch, 0) DESC LIMIT 8",
        messages / 10
    );
    let mut read = Vec::new();
    if let Ok(out) =
        tokio::task::block_in_place(|| cluster.postgres.psql(colloque_testbed::DATABASE, &tables))
    {
        eprintln!(
            "    rows read per acked message, by table (seq scans, rows they read, index \
             scans, rows fetched):"
        );
        for line in out.lines() {
            let fields: Vec<&str> = line.split('|').collect();
            let [table, seq, seq_rows, idx, idx_rows] = fields[..] else {
                continue;
            };
            let (seq, seq_rows, idx, idx_rows) = (per(seq), per(seq_rows), per(idx), per(idx_rows));
            eprintln!("    {table:<20} {seq:>6.2} {seq_rows:>8.2} {idx:>6.2} {idx_rows:>8.2}");
            read.push(
                json!({"table": table, "seq_scans": seq, "seq_rows": seq_rows,
                "index_scans": idx, "index_rows": idx_rows}),
            );
        }
    }
    json!({"statements": rows, "tables": read})
}
