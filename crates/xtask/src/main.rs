//! Colloque's task runner, invoked as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! It is std-only on purpose: it must compile in seconds on a fresh machine, before any of the
//! tools it installs exist.
//!
//! - `cargo xtask run`: install what is missing, build the app in release, start the server
//!   with demo data on http://127.0.0.1:8080.
//! - `cargo xtask test`: install what is missing (Chromium + ChromeDriver too), then run every
//!   test layer and end with one line `N passed, N failed`.
//! - `cargo xtask chaos [--messages N] [--kills K]`: the chaos test in release with large numbers
//!   (10,000 messages, 10 SIGKILLs by default) and the resync benchmark.
//! - `cargo xtask bench [--quick | --no-app | --app-only]`: the server's load benchmark (crates/bench) in
//!   release on loopback, then the app: its first load with Lighthouse and a 10,000-message
//!   conversation in headless Chromium; prints a table and writes `target/bench/server.json`.
//!   `--cluster [--quick]`: three instances on PostgreSQL and NATS instead
//!   (`target/bench/cluster.json`). `--attachments`: 10 MB uploads, alone and ten at once
//!   (`target/bench/attachments.json`).
//! - `cargo xtask attack`: the attack run (crates/bench/src/attack.rs) against the release
//!   server; prints a table and writes `target/bench/attack.json`.
//! - `cargo xtask cluster [--port P]`: a real cluster on loopback (PostgreSQL, NATS, three
//!   server instances, nginx in front on http://127.0.0.1:8080) with demo data.
//! - `cargo xtask contract`: schemathesis against the server and its OpenAPI document (the
//!   last step of `test`), alone.
//! - `cargo xtask setup`, `build`, `size`, `lint`: the pieces, for developers.

mod bundle;
mod contract;
mod python;
mod report;
mod runs;
mod stylesheets;
mod tools;
mod wasm_opt;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use bundle::{build_dist, print_sizes};
use report::{Summary, run_cargo_test};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run     install missing tools, build the app (release) and serve it with demo data on :8080
  cluster install missing tools, build the app and the server (release), then start a cluster
          on loopback with demo data: a private PostgreSQL, nats-server, three server
          instances and nginx in front, round-robin, on http://127.0.0.1:8080 (--port P for
          another port); Ctrl-C stops it all
  test    install missing tools and browsers, then run every test layer
  setup   only install the missing tools (aiosmtpd, the e-mail tests' SMTP server, included;
          add --browser for Chromium + ChromeDriver, --cluster for PostgreSQL, nats-server and
          nginx)
  build   build the app in release into dist/ and print the bundle sizes
  size    print the bundle sizes of the current dist/
  lint    cargo fmt --check and clippy -D warnings, for the host and wasm32 targets
  contract  the API contract alone (the last step of `test`): schemathesis, installed from
          PyPI into .tools/schemathesis/, against the server and its OpenAPI document,
          authenticated as a patient then a doctor; it must find nothing
  chaos   the chaos test in release: 10,000 messages, 10 server SIGKILLs, socket cuts, then
          the resync benchmark (options: --messages N, --kills K, --cuts C, --seed S);
          --cluster: 10,000 messages through nginx over three instances on PostgreSQL and
          NATS, with 6 instance kills, 3 NATS outages and 2 PostgreSQL immediate restarts
          (--kills K, --nats-outages N, --pg-restarts P)
  attack  the attacks of issue 10 against the release server on loopback (socket floods,
          login floods, credential stuffing, a login burst): for each, the server's memory and
          open files, /api/health, and whether a legitimate user could log in and send;
          writes target/bench/attack.json (about 2 minutes)
  bench   the server's load benchmark in release on loopback, then the app's first load with
          Lighthouse and a 10,000-message conversation in Chromium (about 5 minutes once the
          tools are installed; --no-app: the server only;
          --quick: a 30 s server run; --app-only: the app alone, into target/bench/app.json):
          prints a table, writes target/bench/server.json;
          --cluster: three server instances on a private PostgreSQL (fsync on) and NATS, 3 × 1,000
          sockets, every delivery crossing instances: 60 s at 600 msg/s, saturation, a 10 s NATS
          outage (about 3 minutes; --quick: 1 minute); writes target/bench/cluster.json;
          --statements with --cluster: also which SQL statements a message costs
          (PostgreSQL's pg_stat_statements, per acked message of the sustained phase);
          --attachments: a 10 MB upload alone (throughput) and ten at once (the server's peak
          RSS); writes target/bench/attachments.json (about a minute)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("run") => cmd_run(&root, &args[1..]),
        Some("cluster") => cmd_cluster(&root, &args[1..]),
        Some("test") => cmd_test(&root),
        Some("setup") => if args.iter().any(|a| a == "--cluster") {
            tools::ensure_cluster_engines()
        } else {
            Ok(())
        }
        .and_then(|()| tools::ensure_all(&root, args.iter().any(|a| a == "--browser")))
        .and_then(|_| python::ensure_aiosmtpd(&root))
        .map(|_| ()),
        Some("build") => tools::ensure_all(&root, false).and_then(|env| build_dist(&root, &env)),
        Some("size") => print_sizes(&root.join("dist")),
        Some("lint") => cmd_lint(&root),
        Some("chaos") => runs::cmd_chaos(&root, &args[1..]),
        Some("bench") => runs::cmd_bench(&root, &args[1..]),
        Some("attack") => runs::cmd_attack(&root),
        Some("contract") => runs::cmd_contract(&root),
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root: the parent of `crates/xtask`.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask sits two levels below the workspace root")
        .to_path_buf()
}

/// Prints a step header so a newcomer sees where time goes.
pub fn step(what: &str) {
    eprintln!("\n==> {what}");
}

/// Runs a command to completion, inheriting stdio; fails with a readable message.
pub fn run(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

fn cmd_run(root: &Path, args: &[String]) -> Result {
    let started = Instant::now();
    let env = tools::ensure_all(root, false)?;
    build_dist(root, &env)?;
    step("Building the server");
    run(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "-p",
        "colloque-server",
    ]))?;
    eprintln!(
        "\nReady in {:.0} s. Starting the server (Ctrl+C to stop).",
        started.elapsed().as_secs_f64()
    );
    let server = root.join("target/release/colloque-server");
    let mut cmd = Command::new(server);
    cmd.current_dir(root)
        .args(["serve", "--dev", "--static-dir", "dist", "--demo"])
        .args(args);
    run(&mut cmd)
}

/// `cargo xtask cluster [--port P]`: the app and the release binaries, then
/// `colloque-cluster` (crates/testbed/src/bin/colloque-cluster.rs) in place of this process,
/// so that Ctrl-C reaches it and it stops the cluster before the shell prompt comes back.
fn cmd_cluster(root: &Path, args: &[String]) -> Result {
    let mut port = "8080".to_string();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--port" => {
                port = rest
                    .next()
                    .filter(|v| v.parse::<u16>().is_ok_and(|p| p > 0))
                    .ok_or("cluster: --port needs a port number")?
                    .clone();
            }
            other => return Err(format!("cluster: unknown option {other}\n{USAGE}")),
        }
    }
    let started = Instant::now();
    let env = tools::ensure_all(root, false)?;
    tools::ensure_cluster_engines()?;
    build_dist(root, &env)?;
    step("Building the server and colloque-cluster (release)");
    run(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "-p",
        "colloque-server",
        "-p",
        "colloque-testbed",
    ]))?;
    eprintln!(
        "\nBuilt in {:.0} s. Starting the cluster (Ctrl+C to stop).",
        started.elapsed().as_secs_f64()
    );
    let mut cmd = Command::new(root.join("target/release/colloque-cluster"));
    cmd.current_dir(root)
        .args(["--port", &port, "--server-bin"])
        .arg(root.join("target/release/colloque-server"))
        .arg("--dist")
        .arg(root.join("dist"));
    let shown = format!("{cmd:?}");
    // Returns only if the exec failed.
    let error = std::os::unix::process::CommandExt::exec(&mut cmd);
    Err(format!("could not start {shown}: {error}"))
}

fn cmd_test(root: &Path) -> Result {
    let started = Instant::now();
    let env = tools::ensure_all(root, true)?;
    tools::ensure_cluster_engines()?;
    // The SMTP server the notification tests start on loopback (tests/api/notifications.rs).
    let aiosmtpd = python::ensure_aiosmtpd(root)?;
    let mut summary = Summary::default();

    step("1/5 Host unit and server integration tests (real HTTP + WebSocket on 127.0.0.1:0)");
    summary.add(
        "host",
        run_cargo_test(
            env.command("cargo")
                .current_dir(root)
                .args([
                    "test",
                    "--workspace",
                    "--exclude",
                    "colloque",
                    // One failing test binary must not hide the results of the next ones.
                    "--no-fail-fast",
                ])
                .env("COLLOQUE_AIOSMTPD", &aiosmtpd),
        ),
    );
    step("1b/5 The same server integration tests on PostgreSQL (a private cluster on loopback)");
    summary.add(
        "host (postgres)",
        run_cargo_test(
            env.command("cargo")
                .current_dir(root)
                .args(["test", "-p", "colloque-server", "--test", "api"])
                .env("COLLOQUE_TEST_BACKEND", "postgres")
                .env("COLLOQUE_AIOSMTPD", &aiosmtpd),
        ),
    );
    summary.add(
        "app (host)",
        run_cargo_test(
            env.command("cargo")
                .current_dir(root)
                .args(["test", "-p", "colloque", "--lib"]),
        ),
    );

    step("2/5 App tests in headless Chromium (wasm-bindgen-test)");
    summary.add(
        "wasm",
        run_cargo_test(
            env.command("cargo")
                .current_dir(root)
                // The second build's code too (src/second_build.rs): the tests mount its
                // screens.
                .args([
                    "test",
                    "-p",
                    "colloque",
                    "--features",
                    "second-build",
                    "--target",
                    "wasm32-unknown-unknown",
                ])
                .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
                // Chromium flags for a root, offline machine (the runner adds headless and
                // no-sandbox itself; ChromeDriver gives each session a fresh profile).
                .env(
                    "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                    root.join("crates/xtask/webdriver.json"),
                ),
        ),
    );

    step("3/5 Release build of the app");
    let built = build_dist(root, &env);
    if let Err(e) = &built {
        eprintln!("    {e}");
        summary.record_failure("release build");
    }

    step("4/5 End to end: the served release build in headless Chromium through WebDriver");
    // The cluster's end-to-end test runs server processes: the debug binary, built by step 1.
    let server_bin = run(Command::new("cargo").current_dir(root).args([
        "build",
        "-p",
        "colloque-server",
        "--bin",
        "colloque-server",
    ]));
    if let Err(e) = &server_bin {
        eprintln!("    {e}");
        summary.record_failure("server build");
    }
    if built.is_ok() && server_bin.is_ok() {
        summary.add(
            "e2e",
            run_cargo_test(
                env.command("cargo")
                    .current_dir(root)
                    .args([
                        "test",
                        "-p",
                        "colloque",
                        "--test",
                        "e2e",
                        "--test",
                        "e2e_offline",
                        "--test",
                        "e2e_sessions",
                        "--test",
                        "e2e_outbox",
                        "--test",
                        "e2e_mfa",
                        "--test",
                        "e2e_cluster",
                        "--test",
                        "e2e_split",
                        "--test",
                        "e2e_care",
                        "--test",
                        "e2e_a11y",
                        "--test",
                        "e2e_hours",
                        "--test",
                        "e2e_notifications",
                        "--test",
                        "e2e_ladder",
                        "--test",
                        "e2e_templates",
                        "--test",
                        "e2e_typing",
                        "--test",
                        "e2e_attachments",
                        "--test",
                        "e2e_push",
                        "--no-fail-fast",
                    ])
                    .env("COLLOQUE_AIOSMTPD", &aiosmtpd)
                    .env("COLLOQUE_DIST", root.join("dist"))
                    .env("COLLOQUE_E2E_OUT", root.join("target/e2e"))
                    .env("COLLOQUE_AXE", tools::axe_script(root))
                    .env(
                        "COLLOQUE_SERVER_BIN",
                        root.join("target/debug/colloque-server"),
                    ),
            ),
        );
    } else {
        eprintln!("    skipped: the release build failed (counted as a failure above)");
    }

    step("5/5 The API contract: schemathesis against the server's OpenAPI document");
    if server_bin.is_ok() {
        let server = root.join("target/debug/colloque-server");
        for (layer, counts) in contract::run_contract(root, &server) {
            summary.add(&layer, counts);
        }
    } else {
        eprintln!("    skipped: the server build failed (counted as a failure above)");
    }

    summary.print(started.elapsed());
    if summary.ok() {
        Ok(())
    } else {
        Err("some tests failed".into())
    }
}

fn cmd_lint(root: &Path) -> Result {
    step("cargo fmt --check");
    run(Command::new("cargo")
        .current_dir(root)
        .args(["fmt", "--all", "--check"]))?;
    step("clippy (host)");
    run(Command::new("cargo").current_dir(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // Both builds of the app (src/second_build.rs): without and with the doctor's screens.
    for features in [&[][..], &["--features", "second-build"][..]] {
        step(&format!("clippy (wasm32) {}", features.join(" ")));
        run(Command::new("cargo")
            .current_dir(root)
            .args([
                "clippy",
                "-p",
                "colloque",
                "--all-targets",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .args(features)
            .args(["--", "-D", "warnings"]))?;
    }
    step("clippy (host) --features second-build");
    run(Command::new("cargo").current_dir(root).args([
        "clippy",
        "-p",
        "colloque",
        "--all-targets",
        "--features",
        "second-build",
        "--",
        "-D",
        "warnings",
    ]))
}
