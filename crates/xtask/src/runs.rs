//! The long runs, apart from the test suite: the chaos test at scale, the benchmarks, the
//! attack run, and the API contract alone.

use crate::report::Summary;
use crate::{Result, USAGE, build_dist, contract, run, step, tools};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The command-line flag that sets a chaos variable.
fn flag_of(variable: &str) -> Option<&'static str> {
    match variable {
        "CHAOS_KILLS" => Some("--kills"),
        "CHAOS_NATS_OUTAGES" => Some("--nats-outages"),
        "CHAOS_PG_RESTARTS" => Some("--pg-restarts"),
        _ => None,
    }
}

/// `cargo xtask chaos`: the server's chaos test (crates/server/tests/chaos) in release, with
/// large numbers, output streamed. Flags become the test's `CHAOS_*` variables.
pub fn cmd_chaos(root: &Path, args: &[String]) -> Result {
    let mut env = vec![
        ("CHAOS_MESSAGES", "10000".to_string()),
        ("CHAOS_KILLS", "10".to_string()),
        ("CHAOS_RESYNC", "1".to_string()),
    ];
    let mut cluster = false;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let name = match flag.as_str() {
            "--cluster" => {
                cluster = true;
                continue;
            }
            "--nats-outages" => "CHAOS_NATS_OUTAGES",
            "--pg-restarts" => "CHAOS_PG_RESTARTS",
            "--messages" => "CHAOS_MESSAGES",
            "--kills" => "CHAOS_KILLS",
            "--cuts" => "CHAOS_CUTS",
            "--seed" => "CHAOS_SEED",
            other => return Err(format!("chaos: unknown option {other}\n{USAGE}")),
        };
        let value = rest
            .next()
            .filter(|v| v.parse::<u64>().is_ok())
            .ok_or_else(|| format!("chaos: {flag} needs a number"))?;
        env.retain(|(n, _)| *n != name);
        env.push((name, value.clone()));
    }
    if cluster {
        tools::ensure_cluster_engines()?;
        // Three instances: each kill takes one of them down for a moment.
        for (name, default) in [
            ("CHAOS_KILLS", "6"),
            ("CHAOS_NATS_OUTAGES", "3"),
            ("CHAOS_PG_RESTARTS", "2"),
        ] {
            if !args.iter().any(|a| flag_of(name) == Some(a.as_str())) {
                env.retain(|(n, _)| *n != name);
                env.push((name, default.to_string()));
            }
        }
        env.retain(|(n, _)| *n != "CHAOS_RESYNC");
    }
    step(&format!(
        "Chaos test{} (release): {}",
        if cluster { " on a cluster" } else { "" },
        env.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args(["test", "--release", "-p", "colloque-server", "--test"]);
    if cluster {
        // Three server processes, a private PostgreSQL, nats-server and nginx
        // (crates/server/tests/cluster/faults.rs).
        cmd.args([
            "cluster",
            "--",
            "--nocapture",
            "--exact",
            "faults::cluster_chaos",
        ]);
    } else {
        cmd.args([
            "chaos",
            "--",
            "--nocapture",
            // One test at a time, so that the resync figure is not measured under the chaos load.
            "--test-threads=1",
        ]);
    }
    cmd.envs(env);
    run(&mut cmd)
}

/// `cargo xtask bench`: release builds of the server and of the load generator, then the
/// generator drives the server over loopback (crates/bench/src/main.rs says what it measures).
/// Unless `--quick` or `--no-app`, it also builds the app and measures its first load with
/// Lighthouse and its 10,000-message conversation in Chromium (installing the tools it needs
/// first, like `run` and `test`).
///
/// With `--cluster` (and `--quick` or not): the cluster run instead (crates/bench/src/cluster.rs),
/// which needs PostgreSQL and nats-server (installed first when missing, as `setup --cluster`
/// does); no app build.
pub fn cmd_bench(root: &Path, args: &[String]) -> Result {
    let mut quick = false;
    let mut app = true;
    let mut cluster = false;
    let mut attachments = false;
    let mut bench_args: Vec<String> = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--quick" => (quick, app) = (true, false),
            "--no-app" => app = false,
            "--app-only" => bench_args.push("--app-only".into()),
            "--cluster" => cluster = true,
            "--statements" => bench_args.push("--statements".into()),
            "--attachments" => attachments = true,
            other => return Err(format!("bench: unknown option {other}\n{USAGE}")),
        }
    }
    if attachments {
        build_server_and_bench(root)?;
        step("Attachments benchmark");
        return run(Command::new(root.join("target/release/colloque-bench"))
            .current_dir(root)
            .arg("attachments"));
    }
    if cluster {
        if bench_args.iter().any(|a| a == "--app-only") {
            return Err("bench: --cluster and --app-only do not go together".into());
        }
        tools::ensure_cluster_engines()?;
        build_server_and_bench(root)?;
        step("Cluster benchmark");
        let mut command = Command::new(root.join("target/release/colloque-bench"));
        command.current_dir(root).arg("cluster");
        if quick {
            command.arg("--quick");
        }
        command.args(&bench_args);
        return run(&mut command);
    }
    if bench_args.iter().any(|a| a == "--statements") {
        return Err("bench: --statements goes with --cluster".into());
    }
    if quick {
        bench_args.push("--quick".into());
    }
    if app {
        let env = tools::ensure_all(root, true)?;
        build_dist(root, &env)?;
        let cli = tools::ensure_lighthouse(root, &env)?;
        bench_args.extend([
            "--lighthouse".into(),
            cli.to_string_lossy().into_owned(),
            "--dist".into(),
            root.join("dist").to_string_lossy().into_owned(),
            "--chromium".into(),
            tools::CHROMIUM.into(),
        ]);
    }
    build_server_and_bench(root)?;
    step("Benchmark");
    run(Command::new(root.join("target/release/colloque-bench"))
        .current_dir(root)
        .args(&bench_args))
}

/// Release builds of the server and of the load generator (bench and attack run).
fn build_server_and_bench(root: &Path) -> Result {
    step("Release build of colloque-server and colloque-bench");
    run(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "-p",
        "colloque-server",
        "-p",
        "colloque-bench",
    ]))
}

/// `cargo xtask contract`: the debug server, then schemathesis against it (step 5 of `test`).
pub fn cmd_contract(root: &Path) -> Result {
    step("Building the server (debug)");
    run(Command::new("cargo").current_dir(root).args([
        "build",
        "-p",
        "colloque-server",
        "--bin",
        "colloque-server",
    ]))?;
    let server = root.join("target/debug/colloque-server");
    let mut summary = Summary::default();
    let started = Instant::now();
    for (layer, counts) in contract::run_contract(root, &server) {
        summary.add(&layer, counts);
    }
    summary.print(started.elapsed());
    if summary.ok() {
        Ok(())
    } else {
        Err("the API contract does not hold".into())
    }
}

/// `cargo xtask attack`: release builds of the server and of the load generator, then the
/// attacks of issue 10 against the release server on loopback (crates/bench/src/attack.rs).
pub fn cmd_attack(root: &Path) -> Result {
    build_server_and_bench(root)?;
    step("Attacks");
    run(Command::new(root.join("target/release/colloque-bench"))
        .current_dir(root)
        .arg("attack"))
}
