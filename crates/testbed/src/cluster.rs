//! A whole Colloque cluster on loopback: a private PostgreSQL, a `nats-server`, N
//! `colloque-server serve` processes sharing them, and nginx in front (round-robin, no sticky
//! sessions). Used by `cargo xtask cluster` (through the `colloque-cluster` binary), the
//! cluster integration tests and the cluster benchmarks.
//!
//! ```no_run
//! use colloque_testbed::{Cluster, ClusterOptions};
//!
//! let mut options = ClusterOptions::new("target/release/colloque-server");
//! options.proxy_port = Some(18080);
//! options.demo = true;
//! let mut cluster = Cluster::start(options)?;
//! cluster.instances[1].kill9()?; // nginx skips it from now on
//! cluster.instances[1].restart()?; // same port, same arguments
//! # anyhow::Ok(())
//! ```

use crate::nginx::tail;
use crate::process::{Watchdog, free_port, signal};
use crate::{Nats, Nginx, Postgres, PostgresOptions};
use anyhow::Context;
use nix::sys::signal::Signal;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The database every instance shares.
pub const DATABASE: &str = "colloque";

/// How long an instance may take to answer `GET /api/health` with 200 after it was spawned
/// (the first one runs the migrations and, with `demo`, hashes the demo passwords).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a graceful stop (SIGTERM: sockets closed with 1001, requests in flight finished,
/// the pool closed) may take before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How a cluster is made.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// How many server instances (default 3).
    pub instances: usize,
    /// nginx's port on 127.0.0.1; `None` (the default): no proxy, the instances are reached
    /// directly.
    pub proxy_port: Option<u16>,
    /// The `colloque-server` binary (usually `target/release/colloque-server`).
    pub server_bin: PathBuf,
    /// The built app (`dist/`), served by every instance (`--static-dir`).
    pub static_dir: Option<PathBuf>,
    /// `--demo`: the first instance loads the demo accounts into the empty database.
    pub demo: bool,
    /// More environment for every instance, set last (so it may override the cluster's own
    /// `COLLOQUE_*` variables).
    pub extra_env: Vec<(String, String)>,
    /// How PostgreSQL is set up (fsync on by default).
    pub postgres: PostgresOptions,
}

impl ClusterOptions {
    /// Three instances of `server_bin`, no proxy, no app, no demo data, fsync on.
    pub fn new(server_bin: impl Into<PathBuf>) -> ClusterOptions {
        ClusterOptions {
            instances: 3,
            proxy_port: None,
            server_bin: server_bin.into(),
            static_dir: None,
            demo: false,
            extra_env: Vec::new(),
            postgres: PostgresOptions::default(),
        }
    }
}

/// A running cluster. Dropping it stops nginx, then the instances (all at once), then NATS and
/// PostgreSQL, and removes every scratch directory. Each part also has a watchdog that stops
/// it if this process dies first.
pub struct Cluster {
    // Dropped in this order (see also `Drop for Cluster`): the proxy, the instances, then the
    // engines they use.
    /// The proxy, when [`ClusterOptions::proxy_port`] was given.
    pub nginx: Option<Nginx>,
    /// The server instances, numbered from 1 in their order here.
    pub instances: Vec<ServerInstance>,
    /// The bus every instance is connected to (`COLLOQUE_NATS_URL`).
    pub nats: Nats,
    /// The database server; the instances share its database [`DATABASE`].
    pub postgres: Postgres,
    /// The JWT secret every instance signs and checks tokens with (64 hex characters): a
    /// token issued by one instance is accepted by the others.
    pub jwt_secret: String,
}

impl Cluster {
    /// Starts PostgreSQL (and creates the database [`DATABASE`]), NATS, the first instance
    /// (alone, until it is healthy: it runs the migrations and loads the demo data), the other
    /// instances, then nginx. Returns when every instance's `GET /api/health` says `ok` (the
    /// database answers and the bus is connected, [`ServerInstance::wait_ok`]) and nginx
    /// listens.
    pub fn start(options: ClusterOptions) -> anyhow::Result<Cluster> {
        anyhow::ensure!(options.instances >= 1, "a cluster needs an instance");
        anyhow::ensure!(
            options.server_bin.is_file(),
            "{} does not exist: build it with `cargo build --release -p colloque-server`",
            options.server_bin.display()
        );
        let static_dir = match &options.static_dir {
            Some(dir) => Some(std::fs::canonicalize(dir).with_context(|| {
                format!(
                    "the app's directory {} is missing (`cargo xtask build` writes dist/)",
                    dir.display()
                )
            })?),
            None => None,
        };

        if let Some(port) = options.proxy_port {
            // Before anything starts: nginx would only find out at the end.
            drop(
                std::net::TcpListener::bind(("127.0.0.1", port))
                    .with_context(|| format!("127.0.0.1:{port} is already in use"))?,
            );
        }

        let postgres = Postgres::start(options.postgres.clone())?;
        postgres.create_database(DATABASE)?;
        let nats = Nats::start()?;
        let jwt_secret = random_hex(32);

        let mut args: Vec<OsString> = vec![
            // Development mode: plain HTTP on loopback (production's cookies are always
            // `Secure`, which a client over http://127.0.0.1 would not send back), demo data
            // allowed. The JWT secret and, behind the proxy, the allowed origins are given
            // explicitly all the same, as production needs them.
            "--dev".into(),
            "--database-url".into(),
            postgres.url(DATABASE).into(),
            "--trusted-proxies".into(),
            "127.0.0.1".into(),
        ];
        if let Some(dir) = static_dir {
            args.extend(["--static-dir".into(), dir.into_os_string()]);
        }
        if options.demo {
            args.push("--demo".into());
        }
        // COLLOQUE_NATS_URL is --nats-url's variable. Given through the environment, it is
        // also accepted by a server built before that flag (clap ignores unknown variables).
        let mut env = vec![
            ("COLLOQUE_NATS_URL".to_owned(), nats.url()),
            ("COLLOQUE_JWT_SECRET".to_owned(), jwt_secret.clone()),
            // Plain text in the log files, without terminal colour codes.
            ("NO_COLOR".to_owned(), "1".to_owned()),
        ];
        if let Some(port) = options.proxy_port {
            env.push((
                "COLLOQUE_ALLOWED_ORIGINS".to_owned(),
                format!("http://127.0.0.1:{port}"),
            ));
        }
        env.extend(options.extra_env.iter().cloned());

        let spawn =
            |number| ServerInstance::spawn(number, &options.server_bin, args.clone(), env.clone());
        let mut instances = vec![spawn(1)?];
        instances[0].wait_ok()?;
        for number in 2..=options.instances {
            instances.push(spawn(number)?);
        }
        for instance in &mut instances[1..] {
            instance.wait_ok()?;
        }

        let nginx = match options.proxy_port {
            Some(port) => {
                let ports: Vec<u16> = instances.iter().map(ServerInstance::port).collect();
                Some(Nginx::start(port, &ports)?)
            }
            None => None,
        };
        Ok(Cluster {
            nginx,
            instances,
            nats,
            postgres,
            jwt_secret,
        })
    }

    /// Where a browser or a client goes: nginx's URL, or the first instance's without a
    /// proxy.
    pub fn url(&self) -> String {
        match &self.nginx {
            Some(nginx) => nginx.url(),
            None => self.instances[0].base_url(),
        }
    }

    /// The instances' shared database, `postgres://postgres@127.0.0.1:<port>/colloque`.
    pub fn database_url(&self) -> String {
        self.postgres.url(DATABASE)
    }

    /// The instances' ports, in order.
    pub fn ports(&self) -> Vec<u16> {
        self.instances.iter().map(ServerInstance::port).collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            let _ = nginx.stop();
        }
        // All instances shut down at the same time, then each is waited for.
        for instance in &mut self.instances {
            let _ = instance.ask_to_stop();
        }
        for instance in &mut self.instances {
            let _ = instance.stop();
        }
        // Then NATS and PostgreSQL, by their own Drop, in field order.
    }
}

/// One `colloque-server serve` process on 127.0.0.1:<its own port>, with a scratch directory
/// of its own (its `--data-dir`, its log, its pid file). Dropping it stops it (SIGTERM, then
/// SIGKILL after 10 s).
pub struct ServerInstance {
    number: usize,
    dir: tempfile::TempDir,
    port: u16,
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    paused: bool,
    watchdog: Watchdog,
}

impl ServerInstance {
    /// Spawns `<program> serve --bind 127.0.0.1:<free port> --data-dir <scratch>/data
    /// <args>` with `env`, without waiting for it.
    fn spawn(
        number: usize,
        program: &Path,
        args: Vec<OsString>,
        env: Vec<(String, String)>,
    ) -> anyhow::Result<ServerInstance> {
        // Owner only, as the server asks of a production data directory.
        let dir = tempfile::Builder::new()
            .prefix(&format!("colloque-server-{number}-"))
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .context("failed to create a server instance's scratch directory")?;
        // TERM: the server's graceful shutdown; the watchdog sends KILL 2 s later.
        let watchdog = Watchdog::start(&dir.path().join("server.pid"), "TERM", dir.path())?;
        let mut instance = ServerInstance {
            number,
            dir,
            port: free_port(),
            program: program.to_path_buf(),
            args,
            env,
            child: None,
            paused: false,
            watchdog,
        };
        instance.spawn_again()?;
        Ok(instance)
    }

    /// Its number in the cluster, from 1.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The port it listens on (127.0.0.1), the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`, the instance itself, bypassing nginx.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its stdout and stderr, every start appended (each after a `==>` line).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Its `--data-dir`.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is running (a paused one is).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Whether it answers `GET /api/health` with 200 right now.
    pub fn is_healthy(&self) -> bool {
        matches!(http_get(self.port, "/api/health"), Ok((200, _)))
    }

    /// SIGKILL, and reaps it: no shutdown at all, sockets cut, the port closed. It stays
    /// down until [`ServerInstance::restart`].
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        self.paused = false;
        if let Some(mut child) = self.child.take() {
            signal(child.id(), Signal::SIGKILL)?;
            child.wait().context("failed to reap colloque-server")?;
            self.forget_pid();
        }
        Ok(())
    }

    /// A graceful stop (SIGTERM: WebSockets closed with 1001, requests in flight finished),
    /// SIGKILL if that takes more than 10 s. It stays down until
    /// [`ServerInstance::restart`].
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.ask_to_stop()?;
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if child
                .try_wait()
                .context("failed to reap colloque-server")?
                .is_some()
            {
                self.forget_pid();
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal(child.id(), Signal::SIGKILL)?;
        child.wait().context("failed to reap colloque-server")?;
        self.forget_pid();
        Ok(())
    }

    /// Stops it if it runs ([`ServerInstance::stop`]), then starts it again with the same
    /// port, arguments and environment, and waits until it is healthy.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop()?;
        self.spawn_again()?;
        self.wait_healthy()
    }

    /// [`ServerInstance::restart`] with more environment, kept for later restarts too (a test
    /// gives one instance a setting the others do not have).
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) -> anyhow::Result<()> {
        self.env
            .extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self.restart()
    }

    /// SIGSTOP: it keeps its port and connections but answers nothing, like a hung host.
    pub fn pause(&mut self) -> anyhow::Result<()> {
        if let Some(child) = &self.child {
            signal(child.id(), Signal::SIGSTOP)?;
            self.paused = true;
        }
        Ok(())
    }

    /// SIGCONT after [`ServerInstance::pause`].
    pub fn resume(&mut self) -> anyhow::Result<()> {
        if let (Some(child), true) = (&self.child, self.paused) {
            signal(child.id(), Signal::SIGCONT)?;
            self.paused = false;
        }
        Ok(())
    }

    /// Waits until `GET /api/health` answers 200 (`ok`, or `degraded` while the bus is
    /// down); fails early, with the end of its log, if the process exits.
    pub fn wait_healthy(&mut self) -> anyhow::Result<()> {
        self.wait_for("healthy", |status, _| status == 200)
    }

    /// Waits until `GET /api/health` answers 200 and not `degraded`: the database answers
    /// and the instance is connected to the bus. [`Cluster::start`] waits for this.
    pub fn wait_ok(&mut self) -> anyhow::Result<()> {
        self.wait_for("connected to the database and the bus", |status, body| {
            status == 200 && !body.contains("\"degraded\"")
        })
    }

    fn wait_for(&mut self, what: &str, ready: impl Fn(u16, &str) -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let last = http_get(self.port, "/api/health");
            if let Ok((status, body)) = &last
                && ready(*status, body)
            {
                return Ok(());
            }
            if !self.is_running() {
                anyhow::bail!(
                    "colloque-server instance {} exited at start; the end of {}:\n{}",
                    self.number,
                    self.log_path().display(),
                    tail(&self.log_path(), 20)
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "colloque-server instance {} (port {}) not {what} after {START_TIMEOUT:?}, \
                 last health check: {}; the end of {}:\n{}",
                self.number,
                self.port,
                match &last {
                    Ok((status, body)) => format!("{status} {body}"),
                    Err(error) => format!("{error:#}"),
                },
                self.log_path().display(),
                tail(&self.log_path(), 20)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Removes the pid file of a reaped process, so that the watchdog cannot signal another
    /// process given the same pid later.
    fn forget_pid(&self) {
        let _ = std::fs::remove_file(self.pid_path());
    }

    fn pid_path(&self) -> PathBuf {
        self.dir.path().join("server.pid")
    }

    /// SIGCONT if paused, then SIGTERM, without waiting.
    fn ask_to_stop(&mut self) -> anyhow::Result<()> {
        self.resume()?;
        if let Some(child) = &self.child {
            signal(child.id(), Signal::SIGTERM)?;
        }
        Ok(())
    }

    fn spawn_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "the instance is already running");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .context("failed to open a server instance's log")?;
        let mut command = Command::new(&self.program);
        command
            .arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(&self.args)
            .env_remove("COLLOQUE_ENV")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null());
        // The program and its arguments, not the environment: it holds the JWT secret.
        let shown: Vec<_> = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|part| part.to_string_lossy())
            .collect();
        writeln!(
            log,
            "==> colloque-testbed: instance {}: {}",
            self.number,
            shown.join(" ")
        )
        .context("failed to write a server instance's log")?;
        let stdout = log.try_clone().context("failed to share the log")?;
        let child = command
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("failed to start {}", self.program.display()))?;
        let pid = child.id();
        self.child = Some(child);
        std::fs::write(self.pid_path(), pid.to_string())
            .context("failed to write a server instance's pid file")
    }
}

impl Drop for ServerInstance {
    fn drop(&mut self) {
        let _ = self.stop();
        self.watchdog.disarm();
    }
}

/// `GET <path>` on 127.0.0.1:`port` over a plain HTTP/1.1 connection (no client library):
/// the status code and the body (de-chunked if need be). Each step times out after 5 s.
pub fn http_get(port: u16, path: &str) -> anyhow::Result<(u16, String)> {
    get(port, path).with_context(|| format!("GET {path} on 127.0.0.1:{port}"))
}

fn get(port: u16, path: &str) -> anyhow::Result<(u16, String)> {
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("an HTTP response without an end of headers")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP status line: {head:.40}"))?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

/// The body of a `Transfer-Encoding: chunked` response.
fn dechunk(mut rest: &str) -> anyhow::Result<String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").context("a truncated chunk")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .context("a bad chunk size")?;
        if size == 0 {
            return Ok(body);
        }
        body.push_str(after.get(..size).context("a truncated chunk")?);
        rest = after
            .get(size..)
            .and_then(|r| r.strip_prefix("\r\n"))
            .context("a truncated chunk")?;
    }
}

/// `bytes` random bytes in lowercase hex.
fn random_hex(bytes: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::dechunk;

    #[test]
    fn a_chunked_body_is_put_back_together() {
        assert_eq!(
            dechunk("4\r\n{\"st\r\na;ext=1\r\natus\":\"ok\"\r\n0\r\n\r\n").unwrap(),
            "{\"status\":\"ok\""
        );
        assert!(dechunk("9\r\nshort\r\n").is_err());
    }
}
