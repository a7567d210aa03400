//! The command line's definition (clap): `serve` and the administration commands, their flags
//! and their `COLLOQUE_*` environment overrides. [`super::run`] carries them out.

use crate::config::{
    DEFAULT_AUDIT_RETENTION_DAYS, DEFAULT_SESSION_IDLE_SECS, DEFAULT_TOKEN_TTL_SECS,
};
use crate::store::DatabaseUrl;
use clap::{Parser, Subcommand, ValueEnum};
use colloque_protocol::Role;
use ipnet::IpNet;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Colloque server: secure patient–doctor messaging.
#[derive(Debug, Parser)]
#[command(name = "colloque-server", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives; shared by every command.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// Directory of the database and the generated JWT secret (created if missing).
    #[arg(long, env = "COLLOQUE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The database: `sqlite://<file>` (default: `colloque.db` in the data directory) or
    /// `postgres://user:password@host:port/database`, shared by every instance of a cluster.
    #[arg(long, env = "COLLOQUE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The NATS server that carries wake-ups between the instances of a cluster
    /// (`nats://host:port`). Without it an instance assumes it is alone; the admin commands
    /// use it to tell the instances about revoked sessions at once.
    #[arg(long, env = "COLLOQUE_NATS_URL")]
    pub nats_url: Option<String>,
}

impl DataDir {
    /// The database this command uses.
    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        match &self.database_url {
            Some(url) => DatabaseUrl::parse(url),
            None => Ok(DatabaseUrl::in_data_dir(&self.data_dir)),
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "COLLOQUE_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[command(flatten)]
        data: DataDir,
        /// Built web app to serve (trunk's dist/), with index.html for unknown paths.
        #[arg(long, env = "COLLOQUE_STATIC_DIR")]
        static_dir: Option<PathBuf>,
        /// Load the demo accounts and data if the database has no users.
        #[arg(long, env = "COLLOQUE_DEMO")]
        demo: bool,
        /// Comma-separated origins allowed to call the API from another origin (CORS).
        #[arg(long, env = "COLLOQUE_ALLOWED_ORIGINS", value_delimiter = ',')]
        allowed_origins: Vec<String>,
        /// Access-token lifetime in seconds (renewed by POST /api/auth/refresh while active).
        #[arg(long, env = "COLLOQUE_TOKEN_TTL_SECS", default_value_t = DEFAULT_TOKEN_TTL_SECS)]
        token_ttl_secs: u64,
        /// A session unused for this many seconds cannot be used nor refreshed.
        #[arg(long, env = "COLLOQUE_SESSION_IDLE_SECS", default_value_t = DEFAULT_SESSION_IDLE_SECS)]
        session_idle_secs: u64,
        /// Messages one user may send per minute (every socket and REST together).
        #[arg(long, env = "COLLOQUE_SEND_RATE_PER_MINUTE", default_value_t = 100)]
        send_rate_per_minute: u32,
        /// Authenticated requests and socket frames one user may make per minute, every kind
        /// together.
        #[arg(
            long,
            env = "COLLOQUE_REQUEST_RATE_PER_MINUTE",
            default_value_t = 1_200
        )]
        request_rate_per_minute: u32,
        /// Seconds without any frame (pongs included) before a socket is closed.
        #[arg(long, env = "COLLOQUE_WS_IDLE_SECS", default_value_t = 60)]
        ws_idle_secs: u64,
        /// How often (milliseconds) the sessions of open sockets are checked in the database:
        /// the bound on how long a revocation the bus did not carry keeps a socket open.
        #[arg(long, env = "COLLOQUE_REVOCATION_CHECK_MS", default_value_t = 5_000)]
        revocation_check_ms: u64,
        /// Fault injection for the cluster tests: this instance stores and delivers as usual
        /// but never tells the others (every wake-up it would publish is dropped).
        #[arg(long, env = "COLLOQUE_FAULT_DROP_WAKEUPS", hide = true)]
        fault_drop_wakeups: bool,
        /// Audit entries older than this many days are purged (at start and daily). At least
        /// 180 (production refuses less; elsewhere the purge keeps 180 days anyway).
        #[arg(long, env = "COLLOQUE_AUDIT_RETENTION_DAYS", default_value_t = DEFAULT_AUDIT_RETENTION_DAYS)]
        audit_retention_days: u32,
        /// Development mode: a JWT secret generated into the data directory when none is
        /// given, trunk's dev origin allowed, demo data allowed (on loopback). Also set by
        /// COLLOQUE_ENV=dev. Without it the server runs in production mode.
        #[arg(long, conflicts_with = "production")]
        dev: bool,
        /// Production mode, the default, spelled out: refuse to start without
        /// COLLOQUE_JWT_SECRET and allowed origins; no trunk dev origin, no demo data. Also
        /// COLLOQUE_ENV=production.
        #[arg(long)]
        production: bool,
        /// The reverse proxies (addresses or CIDR blocks, comma-separated) whose
        /// X-Forwarded-For is believed, e.g. `127.0.0.1` for an nginx on the same host. Only a
        /// request from one of them has its client address read from that header.
        #[arg(long, env = "COLLOQUE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
        trusted_proxies: Vec<IpNet>,
        /// Replaced by --trusted-proxies (refused, so that a deployment notices).
        #[arg(long, env = "COLLOQUE_TRUST_FORWARDED_FOR", hide = true)]
        trust_forwarded_for: bool,
        /// Every doctor must use multi-factor authentication: a doctor without it can only
        /// enrol (and log out) until they have.
        #[arg(long, env = "COLLOQUE_REQUIRE_MFA_FOR_DOCTORS")]
        require_mfa_for_doctors: bool,
        /// The largest attachment accepted, in bytes (PDF, JPEG, PNG, HEIC/HEIF).
        #[arg(
            long,
            env = "COLLOQUE_MAX_ATTACHMENT_BYTES",
            default_value_t = 10_000_000
        )]
        max_attachment_bytes: usize,
        /// The most attachments one message may carry (1 to 4).
        #[arg(long, env = "COLLOQUE_MAX_ATTACHMENTS_PER_MESSAGE", default_value_t = 4,
              value_parser = clap::value_parser!(u8).range(1..=4))]
        max_attachments_per_message: u8,
        /// The bytes one user's attachments may take in all.
        #[arg(
            long,
            env = "COLLOQUE_ATTACHMENT_QUOTA_BYTES",
            default_value_t = 200_000_000
        )]
        attachment_quota_bytes: u64,
        /// The slowest an upload may arrive, in bytes per second on average, once the 30 s
        /// that any request has are over: slower, it is cut (408). 10 kB/s gives a 10 MB file
        /// about 17 minutes.
        #[arg(
            long,
            env = "COLLOQUE_MIN_UPLOAD_BYTES_PER_SECOND",
            default_value_t = crate::attachments::DEFAULT_MIN_UPLOAD_BYTES_PER_SECOND,
            value_parser = clap::value_parser!(u64).range(1..)
        )]
        min_upload_bytes_per_second: u64,
        /// The sender of notification e-mails. The SMTP server is read from the environment
        /// only (`COLLOQUE_SMTP_URL`, it may hold a password): `smtp://user:pass@host:587?tls=required`
        /// (STARTTLS) or `smtps://user:pass@host:465`; without it, e-mails are written as
        /// `.eml` files into the data directory's `mail/` (docs/notifications.md).
        #[arg(
            long,
            env = "COLLOQUE_MAIL_FROM",
            default_value = "Colloque <no-reply@colloque.invalid>"
        )]
        mail_from: String,
        /// The app's public address, for the links of e-mails, e.g. https://colloque.example.org
        /// (default: the first allowed origin, else the bound address).
        #[arg(long, env = "COLLOQUE_PUBLIC_URL")]
        public_url: Option<String>,
        /// The contact in Web Push's VAPID tokens (RFC 8292), `mailto:…` or `https://…`
        /// (default: `mailto:` the --mail-from address). The VAPID private key is read from
        /// the environment only (`COLLOQUE_VAPID_PRIVATE_KEY`, a base64url P-256 scalar);
        /// without it, one is generated into the data directory's `vapid_private_key`.
        #[arg(long, env = "COLLOQUE_VAPID_SUBJECT")]
        vapid_subject: Option<String>,
        /// How long a message stays unread before its e-mail goes (seconds).
        #[arg(long, env = "COLLOQUE_EMAIL_DELAY_SECS", default_value_t = 300)]
        email_delay_secs: u64,
        /// Serve Prometheus metrics (`GET /metrics`) on this address, e.g. 127.0.0.1:9100:
        /// never on the public port, and never with user ids or content in labels.
        #[arg(long, env = "COLLOQUE_METRICS_BIND")]
        metrics_bind: Option<SocketAddr>,
    },
    /// Print one person's audit trail as JSON lines (oldest first).
    AuditExport {
        #[command(flatten)]
        data: DataDir,
        /// The person's email (their failed logins are found even without an account).
        #[arg(long)]
        email: String,
        /// Only entries from this date-time on, `YYYY-MM-DDTHH:MM` (UTC).
        #[arg(long)]
        since: Option<String>,
    },
    /// Create an account; the password is read from stdin.
    AddUser {
        #[command(flatten)]
        data: DataDir,
        /// Patient or doctor.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The name others see ("Dr Claire Martin").
        #[arg(long)]
        name: String,
        /// Login email.
        #[arg(long)]
        email: String,
        /// A doctor's speciality ("Cardiologue").
        #[arg(long)]
        speciality: Option<String>,
    },
    /// Create many accounts and care links in one transaction from a JSON-lines file (see
    /// `admin::import`). One password, read from stdin, is hashed once and given to every
    /// imported account: an initial password to hand out, or a benchmark's accounts.
    ImportUsers {
        #[command(flatten)]
        data: DataDir,
        /// The JSON-lines file (`-` for stdin is not accepted: stdin carries the password).
        #[arg(long)]
        file: PathBuf,
        /// `owasp` (the default, as every other account), or `benchmark`: a cheap hash so a
        /// load test can log in thousands of throw-away accounts. Refused with
        /// COLLOQUE_ENV=production.
        #[arg(long, value_enum, default_value_t = HashCost::Owasp)]
        hash_cost: HashCost,
    },
    /// Make a doctor follow a patient (they can then message each other).
    Link {
        #[command(flatten)]
        data: DataDir,
        /// The doctor's email.
        #[arg(long)]
        doctor: String,
        /// The patient's email.
        #[arg(long)]
        patient: String,
    },
    /// End a care relationship: the doctor no longer follows the patient, their open
    /// conversation is closed (it stays readable), and neither can write to the other. With
    /// --nats-url, the sockets of both see the closed conversation at once.
    Unlink {
        #[command(flatten)]
        data: DataDir,
        /// The doctor's email.
        #[arg(long)]
        doctor: String,
        /// The patient's email.
        #[arg(long)]
        patient: String,
    },
    /// Walk the audit trail's hash chain: prints OK with the number of rows and the head's
    /// hash, or the first broken link (a row id) and exits non-zero.
    AuditVerify {
        #[command(flatten)]
        data: DataDir,
    },
    /// Book an appointment.
    AddAppointment {
        #[command(flatten)]
        data: DataDir,
        /// The doctor's email.
        #[arg(long)]
        doctor: String,
        /// The patient's email.
        #[arg(long)]
        patient: String,
        /// Start, `YYYY-MM-DDTHH:MM`, read as UTC.
        #[arg(long)]
        at: String,
        /// Length in minutes.
        #[arg(long, default_value_t = 30)]
        duration: u32,
        /// Where.
        #[arg(long)]
        location: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Disable an account: it can no longer log in, and its sessions are revoked.
    DisableUser {
        #[command(flatten)]
        data: DataDir,
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Turn multi-factor authentication off for an account (lost phone and recovery codes);
    /// its sessions end.
    ResetMfa {
        #[command(flatten)]
        data: DataDir,
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Replace an account's outbox key: what their browsers still keep under the old one (unsent
    /// messages) can no longer be read, and is dropped.
    RotateOutboxKey {
        #[command(flatten)]
        data: DataDir,
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Load the demo data (the database must have no users).
    Demo {
        #[command(flatten)]
        data: DataDir,
    },
}

/// `import-users --hash-cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashCost {
    /// The production cost (OWASP's argon2id m = 19 MiB, t = 2).
    Owasp,
    /// m = 1 MiB, t = 1: for benchmark accounts only.
    Benchmark,
}

/// `--role`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// A patient.
    Patient,
    /// A doctor.
    Doctor,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Patient => Role::Patient,
            RoleArg::Doctor => Role::Doctor,
        }
    }
}

/// A proxy: a CIDR block, or one address (a /32 or /128).
fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR block"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn trusted_proxies_take_addresses_and_cidr_blocks() {
        let cli = Cli::try_parse_from([
            "colloque-server",
            "serve",
            "--trusted-proxies",
            "127.0.0.1, 10.0.0.0/8,::1",
        ])
        .unwrap();
        let Command::Serve {
            trusted_proxies, ..
        } = cli.command
        else {
            panic!("not serve");
        };
        let shown: Vec<String> = trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        assert!(
            Cli::try_parse_from(["colloque-server", "serve", "--trusted-proxies", "proxy.lan"])
                .is_err()
        );
    }

    #[test]
    fn serve_has_production_defaults() {
        let cli = Cli::try_parse_from(["colloque-server", "serve"]).unwrap();
        let Command::Serve {
            bind,
            token_ttl_secs,
            demo,
            dev,
            ..
        } = cli.command
        else {
            panic!("expected serve");
        };
        assert_eq!(bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(token_ttl_secs, DEFAULT_TOKEN_TTL_SECS);
        assert!(!demo);
        assert!(!dev, "development is asked for, never assumed");
        assert!(
            Cli::try_parse_from(["colloque-server", "serve", "--dev", "--production"]).is_err()
        );
    }

    #[test]
    fn audit_export_takes_an_email_and_an_optional_since() {
        let cli = Cli::try_parse_from([
            "colloque-server",
            "audit-export",
            "--email",
            "emma.petit@colloque.test",
            "--since",
            "2026-01-01T00:00",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::AuditExport { since: Some(_), .. }
        ));
    }

    #[test]
    fn serve_defaults_to_short_tokens_and_a_year_of_audit() {
        let cli = Cli::try_parse_from(["colloque-server", "serve", "--production"]).unwrap();
        let Command::Serve {
            token_ttl_secs,
            session_idle_secs,
            send_rate_per_minute,
            audit_retention_days,
            production,
            ..
        } = cli.command
        else {
            panic!("expected serve");
        };
        assert_eq!(token_ttl_secs, 900);
        assert_eq!(session_idle_secs, 900);
        assert_eq!(send_rate_per_minute, 100);
        assert_eq!(audit_retention_days, 365);
        assert!(production);
    }

    #[test]
    fn unlink_takes_a_doctor_and_a_patient_and_audit_verify_only_the_database() {
        let cli = Cli::try_parse_from([
            "colloque-server",
            "unlink",
            "--doctor",
            "dr.martin@colloque.test",
            "--patient",
            "emma.petit@colloque.test",
            "--nats-url",
            "nats://127.0.0.1:4222",
        ])
        .unwrap();
        let Command::Unlink { data, .. } = cli.command else {
            panic!("expected unlink");
        };
        assert!(data.nats_url.is_some());
        assert!(Cli::try_parse_from(["colloque-server", "unlink", "--doctor", "d@x.fr"]).is_err());
        let cli = Cli::try_parse_from([
            "colloque-server",
            "audit-verify",
            "--database-url",
            "sqlite:///tmp/colloque.db",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::AuditVerify { .. }));
    }

    #[test]
    fn add_user_has_no_password_flag() {
        let parsed = Cli::try_parse_from([
            "colloque-server",
            "add-user",
            "--role",
            "patient",
            "--name",
            "Lucas",
            "--email",
            "l@colloque.test",
            "--password",
            "x",
        ]);
        assert!(parsed.is_err());
    }
}
