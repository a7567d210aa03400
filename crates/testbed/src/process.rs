//! What every engine needs: a free port, signals, and a watchdog that outlives a crash of the
//! process that started it.

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port in 20000..32000 that is free right now. The ephemeral range (32768..61000 on Linux)
/// is avoided: while an engine is down, a client's reconnection attempt could otherwise be
/// given the engine's port as its own source port and connect to itself.
pub fn free_port() -> u16 {
    use rand::Rng;
    let mut rng = rand::rng();
    loop {
        let port = rng.random_range(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Sends `signal` to process `pid`. A process that is already gone is not an error.
pub fn signal(pid: u32, signal: Signal) -> anyhow::Result<()> {
    let pid = Pid::from_raw(i32::try_from(pid).context("pid out of range")?);
    match kill(pid, signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(error) => Err(error).with_context(|| format!("failed to send {signal} to {pid}")),
    }
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "nothing listens on 127.0.0.1:{port} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `sh` loop that waits for this process to end, then sends `signal` to the process whose
/// id is on the first line of `pid_file` (if any) and removes `dir`. Dropping the returned
/// child does not stop it; [`Watchdog::disarm`] does.
pub(crate) struct Watchdog(Child);

impl Watchdog {
    pub(crate) fn start(pid_file: &Path, signal: &str, dir: &Path) -> anyhow::Result<Watchdog> {
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             pid=$(head -n 1 '{pid_file}' 2>/dev/null); \
             [ -n \"$pid\" ] && kill -{signal} \"$pid\" 2>/dev/null; \
             sleep 2; [ -n \"$pid\" ] && kill -KILL \"$pid\" 2>/dev/null; \
             rm -rf '{dir}'",
            parent = std::process::id(),
            pid_file = pid_file.display(),
            dir = dir.display(),
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start a watchdog shell")?;
        Ok(Watchdog(child))
    }

    /// The engine was stopped by its owner: the watchdog has nothing left to do.
    pub(crate) fn disarm(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether this process runs as root (PostgreSQL then runs as the `postgres` user).
pub(crate) fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Gives `dir` (recursively) to the `postgres` user.
pub(crate) fn give_to_postgres(dir: &Path) -> anyhow::Result<()> {
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir)
        .status()
        .context("failed to run chown")?;
    anyhow::ensure!(
        status.success(),
        "chown -R postgres {} failed",
        dir.display()
    );
    Ok(())
}

/// A command that runs `program` as the `postgres` user when this process is root (initdb
/// and postgres refuse root), as this user otherwise. `setpriv` execs the program itself, so
/// the child's pid is the program's and signals reach it directly.
pub(crate) fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}
