//! A `nats-server` (core NATS, no JetStream) on a free loopback port.

use crate::process::{Watchdog, free_port, signal, wait_for_port};
use anyhow::Context;
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running (or deliberately stopped or paused) `nats-server`. Dropping it stops it.
pub struct Nats {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    paused: bool,
    watchdog: Watchdog,
}

impl Nats {
    /// Starts `nats-server -a 127.0.0.1 -p <free port>` and waits until it listens.
    pub fn start() -> anyhow::Result<Nats> {
        let dir = tempfile::Builder::new()
            .prefix("colloque-nats-")
            .tempdir()
            .context("failed to create NATS's scratch directory")?;
        let watchdog = Watchdog::start(&dir.path().join("nats.pid"), "KILL", dir.path())?;
        let mut nats = Nats {
            dir,
            port: free_port(),
            child: None,
            paused: false,
            watchdog,
        };
        nats.start_again()?;
        Ok(nats)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats.log")
    }

    /// Stops the server (SIGKILL: every connection is cut at once).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.resume()?;
        if let Some(mut child) = self.child.take() {
            signal(child.id(), Signal::SIGKILL)?;
            child.wait().context("failed to reap nats-server")?;
        }
        Ok(())
    }

    /// Starts a stopped server again on the same port.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "nats-server is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .context("failed to open NATS's log")?;
        let child = Command::new(binary()?)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("-P")
            .arg(self.dir.path().join("nats.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .context("failed to start nats-server")?;
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(20))
    }

    /// SIGSTOP: the server keeps its connections open but answers nothing, like a hung host.
    pub fn pause(&mut self) -> anyhow::Result<()> {
        if let Some(child) = &self.child {
            signal(child.id(), Signal::SIGSTOP)?;
            self.paused = true;
        }
        Ok(())
    }

    /// SIGCONT after [`Nats::pause`].
    pub fn resume(&mut self) -> anyhow::Result<()> {
        if let (Some(child), true) = (&self.child, self.paused) {
            signal(child.id(), Signal::SIGCONT)?;
            self.paused = false;
        }
        Ok(())
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.stop();
        self.watchdog.disarm();
    }
}

/// `nats-server` from PATH or Debian's `/usr/sbin` (`COLLOQUE_NATS_SERVER` overrides).
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("COLLOQUE_NATS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("nats-server"));
    candidates.into_iter().find(|path| path.exists()).context(
        "nats-server is not installed: run `apt-get install -y nats-server`, \
         or `cargo xtask setup --cluster` as root",
    )
}
