//! `colloque-bench attachments`: the upload path of issue 13 measured on the release server
//! over loopback. A 10 MB file (the default limit; a PDF, so that no thumbnail is made and the
//! figure is the transfer, sniffing, hashing and the database write) uploaded alone, five
//! times: the throughput. Then ten 10 MB uploads at once from ten users, with the server's
//! RSS sampled every 5 ms: the peak says whether uploads stream into one bounded buffer each
//! or are copied many times over.

use crate::client;
use crate::report::{Report, mb};
use crate::server::{HashCost, PASSWORD, Server};
use anyhow::{Context, bail};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const FILE_BYTES: usize = 10_000_000;
const CONCURRENT: usize = 10;

/// A 10 MB PDF-shaped file, different for each `seed` (identical bytes would be stored once).
fn file(seed: u64) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%".to_vec();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < FILE_BYTES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(FILE_BYTES);
    bytes
}

async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = http
        .post(format!("{base}/api/attachments?name=scan.pdf"))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await?;
    if response.status() != 201 {
        bail!("upload answered {}", response.status());
    }
    Ok(started.elapsed())
}

/// Runs both measures and adds their rows to `report`.
pub async fn run(binary: &Path, work: &Path, report: &mut Report) -> anyhow::Result<()> {
    let accounts: String = (0..CONCURRENT)
        .map(|n| {
            json!({"kind": "user", "role": "patient", "email": format!("u{n}@bench.test"),
                   "name": format!("Patient {n}")})
            .to_string()
                + "\n"
        })
        .collect();
    let server = Server::start(
        binary,
        &work.join("attachments"),
        &[(&accounts, HashCost::Benchmark)],
    )
    .await
    .context("the server starts")?;
    let base = server.base_url();
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for n in 0..CONCURRENT {
        let session = client::login(&http, &base, &format!("u{n}@bench.test"), PASSWORD).await?;
        tokens.push(session.token);
    }

    eprintln!("    one 10 MB upload at a time, 5 times");
    let mut times = Vec::new();
    for seed in 0..5 {
        times.push(upload(&http, &base, &tokens[0], file(seed)).await?);
    }
    times.sort();
    let median = times[2];
    let throughput = FILE_BYTES as f64 / 1e6 / median.as_secs_f64();
    report.row(
        "one 10 MB upload over loopback: time (median of 5) / throughput",
        format!(
            "{:.0} ms / {:.0} MB/s (min {:.0} ms, max {:.0} ms)",
            median.as_secs_f64() * 1e3,
            throughput,
            times[0].as_secs_f64() * 1e3,
            times[4].as_secs_f64() * 1e3
        ),
        "",
    );
    report.value(
        "attachments.upload_ms_median",
        json!(median.as_secs_f64() * 1e3),
    );
    report.value("attachments.upload_mb_per_s", json!(throughput));

    eprintln!("    {CONCURRENT} uploads of 10 MB at once");
    let before = server.rss();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, pid) = (peak.clone(), done.clone(), server.pid());
        tokio::spawn(async move {
            let path = format!("/proc/{pid}/status");
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(crate::server::rss_of(&path), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let files: Vec<Vec<u8>> = (0..CONCURRENT as u64).map(|n| file(100 + n)).collect();
    let started = Instant::now();
    let uploads = tokens.iter().zip(files).map(|(token, bytes)| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move { upload(&http, &base, &token, bytes).await })
    });
    let mut slowest = Duration::ZERO;
    for upload in futures_util::future::join_all(uploads).await {
        slowest = slowest.max(upload??);
    }
    let wall = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = server.rss();
    let peak = peak.load(Ordering::Relaxed);
    report.row(
        "10 concurrent 10 MB uploads: all stored in / aggregate throughput",
        format!(
            "{:.2} s / {:.0} MB/s",
            wall.as_secs_f64(),
            (CONCURRENT * FILE_BYTES) as f64 / 1e6 / wall.as_secs_f64()
        ),
        "",
    );
    report.row(
        "server RSS: before → peak during → 1 s after the 10 uploads",
        format!(
            "{} → {} → {} (peak − before: {}, {:.1}× the 100 MB uploaded)",
            mb(before),
            mb(peak),
            mb(after),
            mb(peak.saturating_sub(before)),
            peak.saturating_sub(before) as f64 / (CONCURRENT * FILE_BYTES) as f64
        ),
        "",
    );
    report.value("attachments.rss_before", json!(before));
    report.value("attachments.rss_peak", json!(peak));
    report.value("attachments.rss_after", json!(after));
    report.value("attachments.concurrent_wall_s", json!(wall.as_secs_f64()));
    server.stop().await;
    Ok(())
}
