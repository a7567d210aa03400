//! The server as a real process: the `colloque-server` binary, started with `serve --demo` on a
//! fixed local port and data directory, killed with SIGKILL and started again on the same port
//! and data directory.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The signing secret, fixed so that tokens survive restarts whatever happens to the data
/// directory's generated secret.
const JWT_SECRET: &str = "chaos-secret-chaos-secret-chaos-secret-0123456789";

/// How long a start may take (database recovery after a SIGKILL, migrations, demo data).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(10);

/// A `colloque-server serve` process.
pub struct ServerProcess {
    port: u16,
    data_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
    http: reqwest::Client,
    /// How many times the process was started.
    pub starts: u32,
    /// How many times it was killed with SIGKILL.
    pub kills: u32,
    /// The longest time from spawn to a healthy `/api/health`.
    pub slowest_start: Duration,
}

impl ServerProcess {
    /// Starts a server on a free port below the ephemeral range (so that no outgoing
    /// connection can take the port while the server is down), storing into `data_dir`.
    pub async fn start(data_dir: &Path) -> ServerProcess {
        let log_path = data_dir.with_extension("log");
        let mut server = ServerProcess {
            port: 0,
            data_dir: data_dir.to_path_buf(),
            log_path,
            child: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("http client"),
            starts: 0,
            kills: 0,
            slowest_start: Duration::ZERO,
        };
        for _ in 0..20 {
            server.port = free_port();
            if server.spawn_and_wait().await.is_ok() {
                return server;
            }
        }
        panic!(
            "the server did not start; see its log {}",
            server.log_path.display()
        );
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:<port>/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, colloque_protocol::WS_PATH)
    }

    /// The server's stderr (all starts appended).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// SIGKILL: no graceful shutdown, no flush, sockets reset by the kernel.
    pub async fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // tokio's start_kill is SIGKILL on Unix.
            child.start_kill().expect("SIGKILL sent");
            let status = child.wait().await.expect("the killed server is reaped");
            assert!(!status.success(), "a SIGKILLed server cannot exit cleanly");
            self.kills += 1;
            self.note(&format!("=== SIGKILL #{} ({status})", self.kills));
        }
    }

    /// Starts the process again on the same port and data directory and waits until it
    /// answers. A port still held for a moment (the kernel cleaning up) is retried.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "restart after kill9 only");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn_and_wait().await {
                Ok(()) => return,
                Err(error) if Instant::now() < deadline => {
                    self.note(&format!("=== restart failed, retrying: {error}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!(
                    "the server did not restart: {error}; see {}",
                    self.log_path.display()
                ),
            }
        }
    }

    async fn spawn_and_wait(&mut self) -> Result<(), String> {
        self.starts += 1;
        self.note(&format!(
            "=== start #{} on 127.0.0.1:{}",
            self.starts, self.port
        ));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("server log file");
        let spawned = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_colloque-server"))
            .arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--dev")
            .arg("--demo")
            .env("COLLOQUE_JWT_SECRET", JWT_SECRET)
            // The per-user send limit (100 a minute by default) would make a run of thousands
            // of messages last hours; the chaos test is about durability, not throttling (the
            // client does handle `rate_limited`: it retries with backoff).
            .env("COLLOQUE_SEND_RATE_PER_MINUTE", "1000000000")
            .env("COLLOQUE_REQUEST_RATE_PER_MINUTE", "1000000000")
            .env_remove("COLLOQUE_STATIC_DIR")
            .env_remove("COLLOQUE_ENV")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("spawn failed: {error}"))?;
        let deadline = spawned + START_TIMEOUT;
        let health = format!("{}/api/health", self.base_url());
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("the server exited at start with {status}"));
            }
            if let Ok(response) = self.http.get(&health).send().await
                && response.status() == 200
            {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(format!("not healthy after {START_TIMEOUT:?}"));
            }
            tokio::time::sleep(POLL).await;
        }
        self.slowest_start = self.slowest_start.max(spawned.elapsed());
        self.child = Some(child);
        Ok(())
    }

    fn note(&self, line: &str) {
        if let Ok(mut file) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// A port in 20000..32000 that is free right now. The ephemeral range (32768..61000 on Linux)
/// is avoided: a client's reconnection attempt while the server is down could otherwise be
/// given the server's port as its own and connect to itself.
fn free_port() -> u16 {
    use rand::Rng;
    let mut rng = rand::rng();
    loop {
        let port = rng.random_range(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
