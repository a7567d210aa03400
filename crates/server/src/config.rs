//! Server configuration: one plain struct, filled by the CLI (flags with `COLLOQUE_*`
//! environment overrides, see [`crate::cli`]) or by tests through [`Config::for_tests`].

use crate::store::DatabaseUrl;
use ipnet::IpNet;
use secrecy::ExposeSecret;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The default access-token lifetime: 15 minutes. The app renews its token while the user is
/// active (`POST /api/auth/refresh`), so a stolen token is worth a quarter of an hour at most,
/// and revocation (logout, disabled account) is server-side anyway.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 15 * 60;

/// Secrets shorter than this are refused (HS256 wants a key at least as long as its output).
pub const MIN_SECRET_BYTES: usize = 32;

/// The default session idle limit: a session with no activity (request, socket frame other than
/// a ping, refresh) for 15 minutes can no longer be used nor refreshed (automatic logoff).
pub const DEFAULT_SESSION_IDLE_SECS: u64 = 15 * 60;

/// The default absolute session lifetime: 12 hours after login, whatever the activity, the user
/// logs in again.
pub const DEFAULT_SESSION_MAX_SECS: u64 = 12 * 60 * 60;

/// The default grace after a refresh (`Limits::refresh_grace`): long enough for two tabs'
/// simultaneous renewals, the requests under way and the socket's re-authentication; short
/// enough that a token taken before a refresh is worth seconds, not its quarter of an hour.
pub const DEFAULT_REFRESH_GRACE_SECS: u64 = 10;

/// The default audit retention: one year.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 365;

/// The shortest audit retention production accepts (CNIL: 6 months to a year for access
/// traces); the purge never goes below it anywhere.
pub const MIN_AUDIT_RETENTION_DAYS: u32 = crate::audit::MIN_RETENTION_DAYS;

/// The origin of `trunk serve` (Trunk.toml), allowed outside production.
pub const TRUNK_DEV_ORIGINS: [&str; 2] = ["http://127.0.0.1:8081", "http://localhost:8081"];

/// How many password hashes may wait for a hashing thread: about 5 s of work at OWASP cost on
/// 2 cores (each hash takes 20–50 ms), enough for a burst of 200 logins at a shift's start.
pub const DEFAULT_HASH_QUEUE: usize = 256;

/// "At most `max` events per `window`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// How many.
    pub max: u32,
    /// Per how long.
    pub window: Duration,
}

impl RateLimit {
    /// `max` per minute.
    pub const fn per_minute(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(60),
        }
    }

    /// `max` per `minutes` minutes.
    pub const fn per_minutes(max: u32, minutes: u64) -> Self {
        Self {
            max,
            window: Duration::from_secs(minutes * 60),
        }
    }
}

/// The login throttle's three windows of failures (`auth::throttle`): a brute-force limit per
/// (account, address), and much higher ceilings per account and per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures per (account, address).
    pub per_pair: RateLimit,
    /// Failures per account, over every address.
    pub per_account: RateLimit,
    /// Failures per address, over every account.
    pub per_address: RateLimit,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_pair: RateLimit::per_minutes(5, 15),
            per_account: RateLimit::per_minutes(50, 15),
            per_address: RateLimit::per_minutes(100, 15),
        }
    }
}

/// The security limits: sessions, sockets, rate limits, audit. Every duration is configurable
/// so that tests can make time pass quickly instead of sleeping.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A session unused for this long cannot be used nor refreshed.
    pub session_idle: Duration,
    /// A session ends this long after login, whatever the activity.
    pub session_max: Duration,
    /// A new socket must send its `auth` frame within this.
    pub ws_auth_timeout: Duration,
    /// A socket that sends nothing (no frame, no pong) for this long is closed.
    pub ws_idle_timeout: Duration,
    /// The server pings every socket this often; a socket silent for two intervals is dead.
    pub ws_heartbeat: Duration,
    /// How many frames may wait for one socket before it is cut off (`resync_required`, 1013).
    pub ws_queue: usize,
    /// How often open sockets are checked against the sessions table. A logout closes its
    /// sockets at once on every instance (through the bus); this check catches what the bus
    /// lost and revocations made without it (the admin CLI on a server without NATS).
    pub revocation_check: Duration,
    /// How often the conversations active since the last pass are compared with what this
    /// instance's sockets were pushed (what a lost wake-up announced is delivered then).
    pub delivery_sweep: Duration,
    /// The same, while the bus is down: deliveries to the other instances depend on it.
    pub delivery_sweep_bus_down: Duration,
    /// Messages one user may send, over every socket and REST together (token bucket).
    pub sends: RateLimit,
    /// Authenticated requests and socket frames one user may make, every kind together
    /// (token bucket): history reads, mark_read, pings, sends and the rest.
    pub requests: RateLimit,
    /// Failed logins allowed per (account, address), per account and per address
    /// (`auth::throttle`).
    pub login: LoginLimits,
    /// Successful logins per account (each one makes a session).
    pub logins_per_account: RateLimit,
    /// Password hashes that may wait for a hashing thread; past it, login answers 503.
    pub hash_queue: usize,
    /// How long a client has to send a request's headers (also closes idle keep-alive
    /// connections).
    pub http_header_timeout: Duration,
    /// HTTP connections open at once (WebSockets are counted by `ws_max_sockets` once
    /// upgraded); past it, a new connection is closed at once.
    pub http_max_connections: usize,
    /// How long an API handler may take before the request answers 503.
    pub http_request_timeout: Duration,
    /// Sockets open at once, authenticated or not; past it, `/ws` answers 503.
    pub ws_max_sockets: usize,
    /// Sockets waiting to authenticate per client address; past it, `/ws` answers 429.
    pub ws_unauthenticated_per_address: u32,
    /// Authenticated sockets one user may hold on this instance; past it, their oldest is
    /// closed (`too_many_sockets`, 1008).
    pub ws_sockets_per_user: usize,
    /// How long one write to a socket may block before the socket is dropped.
    pub ws_write_timeout: Duration,
    /// Live sessions one user may hold; a new login revokes the oldest beyond it.
    pub sessions_per_user: usize,
    /// How often sessions that ended more than a day ago are deleted.
    pub session_sweep: Duration,
    /// After a refresh rotates a session's credential, how long the replaced credential still
    /// gets a sibling instead of revoking the session (two tabs renewing at once, a retry), and
    /// how long an access token of the generation before still works (requests under way, a
    /// socket about to re-authenticate). Past it, the old token is refused.
    pub refresh_grace: Duration,
    /// Every doctor must use multi-factor authentication (`--require-mfa-for-doctors`): a
    /// doctor without it gets a session restricted to enrolment.
    pub require_mfa_for_doctors: bool,
    /// File types, sizes, counts and quota of attachments.
    pub attachments: crate::attachments::AttachmentLimits,
}

impl Limits {
    /// What the session checks need.
    pub fn session_rules(&self) -> crate::auth::SessionRules {
        crate::auth::SessionRules {
            idle: self.session_idle,
            grace: self.refresh_grace,
            require_mfa_for_doctors: self.require_mfa_for_doctors,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(DEFAULT_SESSION_IDLE_SECS),
            session_max: Duration::from_secs(DEFAULT_SESSION_MAX_SECS),
            ws_auth_timeout: Duration::from_secs(10),
            ws_idle_timeout: Duration::from_secs(60),
            ws_heartbeat: Duration::from_secs(15),
            ws_queue: 256,
            revocation_check: Duration::from_secs(5),
            delivery_sweep: Duration::from_secs(5),
            delivery_sweep_bus_down: Duration::from_millis(500),
            sends: RateLimit::per_minute(100),
            requests: RateLimit::per_minute(1_200),
            login: LoginLimits::default(),
            logins_per_account: RateLimit::per_minute(10),
            hash_queue: DEFAULT_HASH_QUEUE,
            http_header_timeout: Duration::from_secs(10),
            http_max_connections: 10_000,
            http_request_timeout: Duration::from_secs(30),
            ws_max_sockets: 50_000,
            ws_unauthenticated_per_address: 20,
            ws_sockets_per_user: crate::delivery::SOCKETS_PER_USER,
            ws_write_timeout: Duration::from_secs(10),
            sessions_per_user: 10,
            session_sweep: Duration::from_secs(60 * 60),
            refresh_grace: Duration::from_secs(DEFAULT_REFRESH_GRACE_SECS),
            require_mfa_for_doctors: false,
            attachments: crate::attachments::AttachmentLimits::default(),
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// Holds `colloque.db` (and its WAL files) and `jwt_secret`. Created on first start.
    pub data_dir: PathBuf,
    /// The database; `None`: `colloque.db` in the data directory.
    pub database_url: Option<DatabaseUrl>,
    /// The NATS server that carries wake-ups between instances (`nats://host:port`); `None`:
    /// this instance is alone.
    pub nats_url: Option<String>,
    /// Where to serve Prometheus metrics (`GET /metrics`), apart from the public port; `None`:
    /// not served.
    pub metrics_bind: Option<SocketAddr>,
    /// Fault injection (cluster tests): publish no wake-up at all.
    pub fault_drop_wakeups: bool,
    /// The built web app (trunk's `dist/`), served with a fallback to `index.html`.
    pub static_dir: Option<PathBuf>,
    /// The HS256 signing secret (at least 32 bytes). When absent, a random secret is
    /// generated once into `<data_dir>/jwt_secret` (mode 0600) and reused.
    pub jwt_secret: Option<SecretString>,
    /// Origins allowed to call the API cross-origin (CORS) and to open the WebSocket, in
    /// addition to the server's own bind origins (and trunk's dev origin outside production).
    pub allowed_origins: Vec<String>,
    /// Production mode: refuses to start without an explicit secret and allowed origins, and
    /// does not allow trunk's dev origin.
    pub production: bool,
    /// The reverse proxies whose `X-Forwarded-For` is believed: only a request whose peer is
    /// one of them has its client address read from that header (for login throttling and
    /// audit). Empty: the peer's address is the client's.
    pub trusted_proxies: Vec<IpNet>,
    /// Audit entries older than this many days are purged (at start and daily).
    pub audit_retention_days: u32,
    /// Sessions, sockets and rate limits.
    pub limits: Limits,
    /// Load the demo data when the database has no users.
    pub demo: bool,
    /// Notification e-mails: where they go, the rules' durations.
    pub notify: crate::notify::NotifyConfig,
    /// Access-token lifetime in seconds.
    pub token_ttl_secs: u64,
    /// Password-hashing cost.
    pub argon2: Argon2Cost,
}

/// Argon2id cost parameters. Stored inside each hash, so changing them only affects new
/// hashes; old ones keep verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Cost {
    /// OWASP Password Storage Cheat Sheet's first recommended argon2id configuration
    /// (m = 19 MiB, t = 2, p = 1): about 20–50 ms per hash on a server core.
    pub const OWASP: Argon2Cost = Argon2Cost {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Far too cheap for production; keeps the test suite fast while running the same code.
    pub const TESTS: Argon2Cost = Argon2Cost {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
}

impl Default for Argon2Cost {
    fn default() -> Self {
        Self::OWASP
    }
}

impl Config {
    /// Production defaults for a given data directory (used by the CLI before applying flags):
    /// production mode included, so that whatever builds a server without saying otherwise
    /// gets the safe one.
    pub fn new(bind: SocketAddr, data_dir: PathBuf) -> Config {
        Config {
            bind,
            data_dir,
            database_url: None,
            nats_url: None,
            metrics_bind: None,
            fault_drop_wakeups: false,
            static_dir: None,
            jwt_secret: None,
            allowed_origins: Vec::new(),
            production: true,
            trusted_proxies: Vec::new(),
            audit_retention_days: DEFAULT_AUDIT_RETENTION_DAYS,
            limits: Limits::default(),
            demo: false,
            notify: crate::notify::NotifyConfig::default(),
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            argon2: Argon2Cost::OWASP,
        }
    }

    /// A configuration for tests: development mode, a random local port, the given (temporary)
    /// data directory, cheap password hashing, no demo data, a generated JWT secret.
    pub fn for_tests(data_dir: PathBuf) -> Config {
        let mut config = Config {
            argon2: Argon2Cost::TESTS,
            production: false,
            ..Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir)
        };
        // A revocation made by another process is noticed within this in tests.
        config.limits.revocation_check = Duration::from_millis(200);
        config
    }

    /// What an operator should hear about at start, for a server bound to `bound`.
    pub fn warnings(&self, bound: SocketAddr) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.production && bound.ip().is_loopback() && self.trusted_proxies.is_empty() {
            // Bound to loopback in production: a reverse proxy is in front. Without
            // --trusted-proxies every client has the proxy's address, for login throttling
            // (the per-address ceiling then counts the whole site's failures) and for audit.
            warnings.push(
                "bound to loopback with no --trusted-proxies: every client will be seen as the \
                 proxy's address; name the proxy, e.g. --trusted-proxies 127.0.0.1",
            );
        }
        if self.production && self.notify.smtp_url.is_none() {
            warnings.push(
                "COLLOQUE_SMTP_URL is not set: notification e-mails are written as .eml files \
                 into the data directory's mail/ and reach nobody",
            );
        }
        if self.production && self.notify.vapid_private_key.is_none() {
            warnings.push(
                "COLLOQUE_VAPID_PRIVATE_KEY is not set: Web Push signs with a key generated into                  the data directory's vapid_private_key; replicas must share one key, and a new                  key silently ends every browser's subscription",
            );
        }
        if !self.production && self.audit_retention_days < MIN_AUDIT_RETENTION_DAYS {
            warnings.push(
                "--audit-retention-days is below the minimum of 180 days: the audit trail is \
                 kept 180 days anyway (production refuses to start with less)",
            );
        }
        warnings
    }

    /// Checks the configuration before anything starts. In production: an explicit JWT secret of
    /// at least 32 bytes (a generated one would silently differ between replicas and vanish
    /// with the data directory), explicit allowed origins, no demo data, and an audit retention
    /// of at least [`MIN_AUDIT_RETENTION_DAYS`].
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(secret) = &self.jwt_secret {
            anyhow::ensure!(
                secret.expose_secret().len() >= MIN_SECRET_BYTES,
                "COLLOQUE_JWT_SECRET must be at least {} bytes long",
                MIN_SECRET_BYTES
            );
        }
        for origin in &self.allowed_origins {
            anyhow::ensure!(
                is_origin(origin),
                "allowed origin {origin:?} is not of the form scheme://host[:port]"
            );
        }
        anyhow::ensure!(
            self.token_ttl_secs > 0,
            "the token lifetime must be positive"
        );
        anyhow::ensure!(
            self.audit_retention_days > 0,
            "the audit retention must be at least one day"
        );
        anyhow::ensure!(
            self.limits.ws_queue > 0,
            "the socket queue must hold a frame"
        );
        if self.production {
            anyhow::ensure!(
                self.jwt_secret.is_some(),
                "production mode (the default) needs an explicit COLLOQUE_JWT_SECRET (at least {} \
                 bytes) and allowed origins (COLLOQUE_ALLOWED_ORIGINS); to try Colloque on this \
                 machine, start it in development mode: `colloque-server serve --dev`",
                MIN_SECRET_BYTES
            );
            anyhow::ensure!(
                !self.allowed_origins.is_empty(),
                "production mode (the default) needs explicit allowed origins \
                 (COLLOQUE_ALLOWED_ORIGINS), e.g. https://colloque.example.fr; to try Colloque \
                 on this machine, start it in development mode: `colloque-server serve --dev`"
            );
            anyhow::ensure!(
                !self.demo,
                "the demo data (known accounts, one known password) needs development mode: \
                 `colloque-server serve --dev --demo`; production mode, the default, refuses it"
            );
            anyhow::ensure!(
                self.audit_retention_days >= MIN_AUDIT_RETENTION_DAYS,
                "production mode keeps the audit trail at least {MIN_AUDIT_RETENTION_DAYS} days \
                 (CNIL recommends 6 months to a year for access traces): \
                 --audit-retention-days {} is too short",
                self.audit_retention_days
            );
        }
        anyhow::ensure!(
            !self.demo || self.bind.ip().is_loopback(),
            "the demo data (known accounts, one known password) is served on loopback only, \
             not on {}",
            self.bind
        );
        Ok(())
    }

    /// The SQLite database file.
    pub fn database_url(&self) -> DatabaseUrl {
        self.database_url
            .clone()
            .unwrap_or_else(|| DatabaseUrl::in_data_dir(&self.data_dir))
    }

    /// The generated JWT secret's file.
    pub fn secret_path(&self) -> PathBuf {
        self.data_dir.join("jwt_secret")
    }
}

/// `scheme://host[:port]`, nothing else (no path, no trailing slash): what browsers send in
/// `Origin`.
pub fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests;
