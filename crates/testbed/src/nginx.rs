//! nginx (Debian's `/usr/sbin/nginx`) as the cluster's reverse proxy: one loopback port,
//! round-robin over the server instances, WebSocket upgrades passed through, no sticky
//! sessions. Everything it writes (configuration, pid file, logs, temp files) stays in a
//! scratch directory of its own.

use crate::process::{Watchdog, is_root, signal};
use anyhow::Context;
use nix::sys::signal::Signal;
use std::fmt::Write as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long nginx may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a graceful stop (SIGQUIT) may take before a fast one (SIGTERM), and that one
/// before SIGKILL. The configuration's `worker_shutdown_timeout` (5 s) bounds the first: open
/// WebSockets would otherwise keep a worker alive until they close.
const STOP_TIMEOUT: Duration = Duration::from_secs(8);

/// A running (or deliberately stopped) nginx in front of the given upstream ports. Dropping
/// it stops it.
pub struct Nginx {
    dir: tempfile::TempDir,
    binary: PathBuf,
    port: u16,
    upstreams: Vec<u16>,
    child: Option<Child>,
    watchdog: Watchdog,
}

impl Nginx {
    /// Writes the configuration, starts `nginx -p <dir> -c <dir>/nginx.conf` (in the
    /// foreground: `daemon off;`) listening on 127.0.0.1:`listen_port`, round-robin over
    /// 127.0.0.1:`upstreams`, and waits until it listens.
    pub fn start(listen_port: u16, upstreams: &[u16]) -> anyhow::Result<Nginx> {
        anyhow::ensure!(!upstreams.is_empty(), "nginx needs at least one upstream");
        let binary = binary()?;
        // Owner only: its temp files hold request bodies (messages in transit).
        let dir = tempfile::Builder::new()
            .prefix("colloque-nginx-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .context("failed to create nginx's scratch directory")?;
        std::fs::write(
            dir.path().join("nginx.conf"),
            config(dir.path(), listen_port, upstreams, is_root()),
        )
        .context("failed to write nginx.conf")?;
        // TERM, not QUIT: a fast shutdown, so that the watchdog's SIGKILL two seconds later
        // finds nothing left (a master killed outright would leave its workers behind).
        let watchdog = Watchdog::start(&dir.path().join("nginx.pid"), "TERM", dir.path())?;
        let mut nginx = Nginx {
            dir,
            binary,
            port: listen_port,
            upstreams: upstreams.to_vec(),
            child: None,
            watchdog,
        };
        nginx.start_again()?;
        Ok(nginx)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The upstream ports, in the configuration's order.
    pub fn upstreams(&self) -> &[u16] {
        &self.upstreams
    }

    /// The error log (start-up problems, upstreams marked down).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("error.log")
    }

    /// The access log, one line a request: `<status> <upstream address(es)> <request>`
    /// (buffered: written at most a second late). The upstream column shows the
    /// round-robin, and a retry as `a, b`.
    pub fn access_log_path(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }

    /// The configuration it runs.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("nginx.conf")
    }

    /// Whether the master process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Stops nginx: SIGQUIT (graceful: requests in flight finish, WebSockets get at most
    /// 5 s), then SIGTERM and SIGKILL if it takes too long.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        for how in [Signal::SIGQUIT, Signal::SIGTERM, Signal::SIGKILL] {
            signal(child.id(), how)?;
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if child.try_wait().context("failed to reap nginx")?.is_some() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        child.wait().context("failed to reap nginx")?;
        Ok(())
    }

    /// Starts a stopped nginx again, with the same configuration and port, and waits until
    /// it listens.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "nginx is already running");
        // nginx would fail to bind, but the connection test below would then reach whoever
        // holds the port and take it for nginx: say so plainly instead.
        drop(
            TcpListener::bind(("127.0.0.1", self.port))
                .with_context(|| format!("127.0.0.1:{} is already in use", self.port))?,
        );
        let dir = self.dir.path();
        let child = Command::new(&self.binary)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            // Before the configuration is read, nginx logs to its compiled-in error log
            // (/var/log/nginx/error.log, not writable by everyone): point it here too.
            .arg("-e")
            .arg(self.log_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start nginx")?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if !self.is_running() {
                anyhow::bail!(
                    "nginx exited at start: {}",
                    tail(&self.log_path(), 10).trim()
                );
            }
            if TcpStream::connect_timeout(
                &([127, 0, 0, 1], self.port).into(),
                Duration::from_millis(200),
            )
            .is_ok()
            {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "nginx does not listen on 127.0.0.1:{} after {START_TIMEOUT:?}; see {}",
                self.port,
                self.log_path().display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.stop();
        self.watchdog.disarm();
    }
}

/// The configuration: every path inside `dir`.
fn config(dir: &Path, listen_port: u16, upstreams: &[u16], as_root: bool) -> String {
    let dir = dir.display();
    // As root, nginx runs its workers as `nobody` unless told otherwise, and `nobody` cannot
    // enter the scratch directory (0700, root's; nor any directory under a closed TMPDIR such
    // as /root/tmp): the workers could not write request bodies over 16 KiB and large
    // responses to their temp files there, and such requests would fail with 500 while small
    // ones work. Opening the directory to everyone instead would expose those files (messages
    // in transit) to every local user. This nginx listens on loopback only and lives as long
    // as a test or a developer's cluster, so its workers run as root.
    let user = if as_root { "user root;\n" } else { "" };
    let worker_connections = open_files_limit().clamp(512, 16_384);
    let mut servers = String::new();
    for port in upstreams {
        // One failure and the instance is skipped for 2 s, so a killed instance costs one
        // failed attempt (retried on the next instance, see proxy_next_upstream) every 2 s.
        let _ = writeln!(
            servers,
            "        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;"
        );
    }
    format!(
        r#"# Written by colloque-testbed (crates/testbed/src/nginx.rs).
daemon off;
{user}worker_processes auto;
# A graceful stop (SIGQUIT) would otherwise wait for every WebSocket to close.
worker_shutdown_timeout 5s;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

events {{
    # Room for many WebSockets (each proxied one holds two connections), within the open
    # files limit nginx inherits (raising it with worker_rlimit_nofile needs a privilege
    # that root in a container may lack).
    worker_connections {worker_connections};
}}

http {{
    log_format upstream '$status $upstream_addr "$request"';
    access_log {dir}/access.log upstream buffer=32k flush=1s;

    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    # A WebSocket handshake is passed on as one (Connection: upgrade); any other request
    # is sent without a Connection header, so upstream connections are kept alive.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    upstream colloque {{
        # Plain round-robin, no sticky sessions. The zone shares the rotation and the
        # failure counts between the workers.
        zone colloque 64k;
{servers}        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{listen_port};
        server_name _;
        client_max_body_size 16m;

        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_connect_timeout 2s;
        # Retry on the next instance only when the request could not be sent or got no
        # answer in time, and never a non-idempotent one (POST, ...), nginx's default: a
        # message must not be sent twice behind the client's back.
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 3;

        location /ws {{
            proxy_pass http://colloque;
            # A quiet socket lives on its own pings; only a dead one should be cut.
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}

        location / {{
            proxy_pass http://colloque;
        }}
    }}
}}
"#
    )
}

/// This process's soft limit on open files, which nginx inherits (1024 if unknown).
fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits
                .lines()
                .find(|line| line.starts_with("Max open files"))?;
            line["Max open files".len()..]
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(1024)
}

/// The last `lines` lines of a log file (empty if it cannot be read).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// nginx from PATH or Debian's `/usr/sbin` (`COLLOQUE_NGINX` overrides).
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("COLLOQUE_NGINX") {
        return Ok(PathBuf::from(path));
    }
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("nginx"))
        .find(|path| path.exists())
        .context(
            "nginx is not installed: run `apt-get install -y nginx`, \
             or `cargo xtask setup --cluster` as root",
        )
}
