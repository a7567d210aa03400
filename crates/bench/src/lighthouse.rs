//! First load of the app, measured by Lighthouse (npm `lighthouse`, pinned by `cargo xtask`) in
//! its default mode: a mid-range phone on a throttled mobile network (simulated), performance
//! category only. The release app is served by the release server with the demo data.

use crate::report::Report;
use crate::server::Server;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// Lighthouse runs per measurement; the run with the median performance score is reported.
const RUNS: usize = 3;

/// The figures of one Lighthouse run.
#[derive(Debug, Clone, Copy)]
struct Run {
    score: f64,
    fcp_ms: f64,
    lcp_ms: f64,
    tbt_ms: f64,
    speed_index_ms: f64,
}

/// Runs Lighthouse [`RUNS`] times on the app's first page and adds the median run's figures.
pub async fn first_load(
    server_bin: &Path,
    dist: &Path,
    cli: &Path,
    work: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let server = Server::start_app(server_bin, &work.join("app"), dist).await?;
    let url = format!("{}/", server.base_url());
    let mut runs = Vec::with_capacity(RUNS);
    for index in 0..RUNS {
        let output = work.join(format!("lighthouse-{index}.json"));
        let profile = work.join(format!("chromium-{index}"));
        let status = Command::new(cli)
            .arg(&url)
            .arg("--output=json")
            .arg(format!("--output-path={}", output.display()))
            .arg("--only-categories=performance")
            .arg("--quiet")
            .arg(format!(
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-quic \
                 --no-first-run --disable-background-networking --disable-component-update \
                 --disable-sync --user-data-dir={}",
                profile.display()
            ))
            .env("CHROME_PATH", "/usr/bin/chromium")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .await
            .with_context(|| format!("failed to start {}", cli.display()))?;
        if !status.success() {
            bail!("lighthouse failed ({status})");
        }
        let text = std::fs::read_to_string(&output)?;
        runs.push(parse(&serde_json::from_str(&text)?)?);
    }
    server.stop().await;
    runs.sort_by(|a, b| a.score.total_cmp(&b.score));
    let median = runs[runs.len() / 2];
    report.row(
        "first load (Lighthouse, mobile): performance score",
        format!(
            "{:.2} (runs: {})",
            median.score,
            runs.iter()
                .map(|run| format!("{:.2}", run.score))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "≥ 0.98",
    );
    report.row(
        "first load: largest contentful paint",
        format!("{:.2} s", median.lcp_ms / 1000.0),
        "≤ 1.5 s",
    );
    report.row(
        "first load: first contentful paint / total blocking time",
        format!("{:.2} s / {:.0} ms", median.fcp_ms / 1000.0, median.tbt_ms),
        "",
    );
    report.value(
        "lighthouse",
        json!({"runs": runs.iter().map(|run| json!({"score": run.score, "fcp_ms": run.fcp_ms,
            "lcp_ms": run.lcp_ms, "tbt_ms": run.tbt_ms, "speed_index_ms": run.speed_index_ms}))
            .collect::<Vec<_>>(), "median_score": median.score, "median_lcp_ms": median.lcp_ms,
            "median_tbt_ms": median.tbt_ms}),
    );
    Ok(())
}

fn parse(report: &Value) -> anyhow::Result<Run> {
    let audit = |name: &str| {
        report["audits"][name]["numericValue"]
            .as_f64()
            .with_context(|| format!("the Lighthouse report has no {name}"))
    };
    Ok(Run {
        score: report["categories"]["performance"]["score"]
            .as_f64()
            .context("the Lighthouse report has no performance score")?,
        fcp_ms: audit("first-contentful-paint")?,
        lcp_ms: audit("largest-contentful-paint")?,
        tbt_ms: audit("total-blocking-time")?,
        speed_index_ms: audit("speed-index")?,
    })
}
