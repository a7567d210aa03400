//! A private PostgreSQL cluster: `initdb` into a scratch directory, `postgres` on a free
//! loopback port, trust authentication for the `postgres` role (loopback only).

use crate::process::{Watchdog, as_postgres, free_port, give_to_postgres, is_root, signal};
use anyhow::Context;
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start (or a crash recovery) may take.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How a cluster is set up.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// `fsync` on (the default, as in production) or off. Off is for test suites that create
    /// hundreds of databases: a commit still reaches the kernel before it returns, so killing
    /// PostgreSQL (or restarting it in immediate mode) loses nothing; only a crash of the
    /// machine itself could.
    pub fsync: bool,
    /// `max_connections`.
    pub max_connections: u32,
    /// More `name=value` settings for the server (e.g. `shared_preload_libraries=…`).
    pub settings: Vec<String>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            fsync: true,
            max_connections: 200,
            settings: Vec::new(),
        }
    }
}

/// A running (or deliberately stopped) private cluster. Dropping it stops PostgreSQL and
/// removes its directory.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    options: PostgresOptions,
    child: Option<Child>,
    watchdog: Watchdog,
}

impl Postgres {
    /// `initdb`, then starts the server and waits until it accepts connections.
    pub fn start(options: PostgresOptions) -> anyhow::Result<Postgres> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("colloque-pg-")
            .tempdir()
            .context("failed to create PostgreSQL's scratch directory")?;
        if is_root() {
            give_to_postgres(dir.path())?;
        }
        let data = dir.path().join("data");
        let output = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .stdin(Stdio::null())
            .output()
            .context("failed to run initdb")?;
        anyhow::ensure!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let watchdog = Watchdog::start(&data.join("postmaster.pid"), "QUIT", dir.path())?;
        let mut postgres = Postgres {
            dir,
            bin,
            port: free_port(),
            options,
            child: None,
            watchdog,
        };
        postgres.start_again()?;
        Ok(postgres)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `database`, as the `postgres` role.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's log (every start appended).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// Creates an empty database.
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database names here are plain identifiers"
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"))
            .map(drop)
    }

    /// Runs SQL through `psql` and returns what it printed (unaligned, tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> anyhow::Result<String> {
        let psql = [self.bin.join("psql"), PathBuf::from("/usr/bin/psql")]
            .into_iter()
            .find(|path| path.exists())
            .context("psql is not installed")?;
        let output = Command::new(psql)
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
            ])
            .args(["-c", sql])
            .stdin(Stdio::null())
            .output()
            .context("failed to run psql")?;
        anyhow::ensure!(
            output.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// `pg_ctl restart -m immediate`: SIGQUIT (every backend exits at once, no checkpoint),
    /// then a start that goes through crash recovery, on the same port.
    pub fn restart_immediate(&mut self) -> anyhow::Result<()> {
        self.stop_with(Signal::SIGQUIT)?;
        self.start_again()
    }

    /// Stops the server in immediate mode and leaves it stopped (the database is down).
    pub fn stop_immediate(&mut self) -> anyhow::Result<()> {
        self.stop_with(Signal::SIGQUIT)
    }

    /// Starts a stopped server again, on the same port and data, and waits until it accepts
    /// connections.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "PostgreSQL is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .context("failed to open PostgreSQL's log")?;
        let child = as_postgres(&self.bin.join("postgres"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args([
                "-c",
                &format!("max_connections={}", self.options.max_connections),
            ])
            .args([
                "-c",
                if self.options.fsync {
                    "fsync=on"
                } else {
                    "fsync=off"
                },
            ])
            .args(["-c", "log_min_messages=warning"])
            .args(
                self.options
                    .settings
                    .iter()
                    .flat_map(|setting| ["-c", setting.as_str()]),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .context("failed to start postgres")?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .context("failed to run pg_isready")?;
            if ready.success() {
                return Ok(());
            }
            if !self.is_running() {
                anyhow::bail!(
                    "postgres exited at start; see {}",
                    self.log_path().display()
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "PostgreSQL not ready after {START_TIMEOUT:?}; see {}",
                self.log_path().display()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn stop_with(&mut self, how: Signal) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        signal(child.id(), how)?;
        child.wait().context("failed to reap postgres")?;
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.stop_with(Signal::SIGQUIT);
        self.watchdog.disarm();
    }
}

/// Debian's server binaries, newest version first (`COLLOQUE_PG_BIN` overrides).
fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("COLLOQUE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).context(
        "PostgreSQL's server is not installed (no /usr/lib/postgresql/*/bin/initdb): \
         run `apt-get install -y postgresql`, or `cargo xtask setup --cluster` as root",
    )
}
