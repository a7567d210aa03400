//! The server under test: a release `colloque-server` process on a loopback port with its own
//! data directory, its accounts created by `import-users`, and its memory and CPU read from
//! `/proc`.

use anyhow::{Context, bail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

/// The signing secret of the benchmark's throw-away servers.
const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret-0123456789";

/// The password of every benchmark account.
pub const PASSWORD: &str = "bench-password-0123";

/// How an account's password is hashed by `import-users`.
#[derive(Debug, Clone, Copy)]
pub enum HashCost {
    /// The production cost: what a real login costs.
    Owasp,
    /// Cheap: thousands of accounts can log in quickly.
    Benchmark,
}

/// A running `colloque-server serve`.
pub struct Server {
    binary: PathBuf,
    data_dir: PathBuf,
    port: u16,
    child: Child,
}

impl Server {
    /// Imports `accounts` (JSON lines for `import-users`) into a fresh data directory, then
    /// starts the server and waits until `/api/health` answers.
    pub async fn start(
        binary: &Path,
        data_dir: &Path,
        imports: &[(&str, HashCost)],
    ) -> anyhow::Result<Server> {
        std::fs::create_dir_all(data_dir)?;
        for (index, (accounts, cost)) in imports.iter().enumerate() {
            import(binary, data_dir, None, index, accounts, *cost).await?;
        }
        Self::spawn(binary, data_dir, &[]).await
    }

    /// Starts the server with the demo data, serving the app built in `dist`.
    pub async fn start_app(binary: &Path, data_dir: &Path, dist: &Path) -> anyhow::Result<Server> {
        std::fs::create_dir_all(data_dir)?;
        let args = ["--static-dir".into(), dist.into(), "--demo".into()];
        Self::spawn(binary, data_dir, &args).await
    }

    async fn spawn(
        binary: &Path,
        data_dir: &Path,
        args: &[std::ffi::OsString],
    ) -> anyhow::Result<Server> {
        let port = free_port();
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        let child = Command::new(binary)
            .arg("serve")
            // Plain HTTP on loopback, with a given secret but no allowed origins; the demo data
            // for the app's benchmark.
            .arg("--dev")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env("COLLOQUE_JWT_SECRET", JWT_SECRET)
            // The per-user send limit (100 a minute) is a protection, not what is measured.
            .env("COLLOQUE_SEND_RATE_PER_MINUTE", "1000000000")
            .env("COLLOQUE_REQUEST_RATE_PER_MINUTE", "1000000000")
            // Idle sockets are held for the whole run without keep-alive pings.
            .env("COLLOQUE_WS_IDLE_SECS", "3600")
            .env("COLLOQUE_SESSION_IDLE_SECS", "3600")
            .env("COLLOQUE_TOKEN_TTL_SECS", "3600")
            .env("RUST_LOG", "warn")
            // Each simulated user logs in from its own address (client::login).
            .env("COLLOQUE_TRUSTED_PROXIES", "127.0.0.1")
            .env_remove("COLLOQUE_STATIC_DIR")
            .env_remove("COLLOQUE_DEMO")
            .env_remove("COLLOQUE_ENV")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("failed to start {}", binary.display()))?;
        let server = Server {
            binary: binary.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            port,
            child,
        };
        server.wait_healthy().await?;
        Ok(server)
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/api/health", self.base_url());
        while Instant::now() < deadline {
            if let Ok(response) = http.get(&url).send().await
                && response.status() == 200
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!(
            "the server did not become healthy; see {}",
            self.data_dir.join("server.log").display()
        )
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:<port>/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, colloque_protocol::WS_PATH)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// Resident memory now, in bytes.
    pub fn rss(&self) -> u64 {
        rss_of(&format!("/proc/{}/status", self.pid()))
    }

    /// CPU time used so far (user + system).
    pub fn cpu(&self) -> Duration {
        cpu_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// The server binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Stops the server and echoes what it logged (it runs with `RUST_LOG=warn`, so only
    /// warnings and errors: a reader sees whether the run was clean).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let log = std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().filter(|line| !line.trim().is_empty()).collect();
        eprintln!(
            "    the server logged {} warning or error lines",
            lines.len()
        );
        for line in lines.iter().take(20) {
            eprintln!("    | {line}");
        }
    }
}

/// `colloque-server import-users` of `accounts` (JSON lines, written to
/// `accounts-<index>.jsonl` in `data_dir`), every password [`PASSWORD`] hashed at `cost`: into
/// the SQLite database of `data_dir`, or into `database_url` (a cluster's PostgreSQL) if given.
pub async fn import(
    binary: &Path,
    data_dir: &Path,
    database_url: Option<&str>,
    index: usize,
    accounts: &str,
    cost: HashCost,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let file = data_dir.join(format!("accounts-{index}.jsonl"));
    std::fs::write(&file, accounts)?;
    let mut command = Command::new(binary);
    command.arg("import-users").arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    let mut child = command
        .arg("--file")
        .arg(&file)
        .arg("--hash-cost")
        .arg(match cost {
            HashCost::Owasp => "owasp",
            HashCost::Benchmark => "benchmark",
        })
        .env("RUST_LOG", "warn")
        .env_remove("COLLOQUE_ENV")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("failed to run import-users")?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await?;
    drop(stdin);
    let status = child.wait().await?;
    if !status.success() {
        bail!("import-users failed with {status}");
    }
    Ok(())
}

/// `VmRSS` of a `/proc/<pid>/status` file, in bytes.
pub fn rss_of(path: &str) -> u64 {
    let status = std::fs::read_to_string(path).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// utime + stime of a `/proc/<pid>/stat` file.
pub fn cpu_of(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    // USER_HZ is 100 on Linux for every architecture this runs on.
    Duration::from_millis(ticks * 10)
}

/// CPU time used by this process (the load generator).
pub fn own_cpu() -> Duration {
    cpu_of("/proc/self/stat")
}

/// A port that is free right now (the kernel picks it; nothing else binds in between here).
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
