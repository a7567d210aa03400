//! The command line: `serve` and the administration commands. Every flag has a `COLLOQUE_*`
//! environment override; the JWT secret is read from the environment only
//! (`COLLOQUE_JWT_SECRET`), never from a flag.

use crate::auth::PasswordHasher;
use crate::config::{
    Argon2Cost, Config, DEFAULT_AUDIT_RETENTION_DAYS, DEFAULT_SESSION_IDLE_SECS,
    DEFAULT_TOKEN_TTL_SECS, Limits, RateLimit,
};
use crate::startup::Application;
use crate::store::{self, DatabaseUrl, Store};
use crate::util::parse_naive_datetime;
use crate::{admin, demo, telemetry};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use colloque_protocol::Role;
use ipnet::IpNet;
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
        /// Audit entries older than this many days are purged (at start and daily).
        #[arg(long, env = "COLLOQUE_AUDIT_RETENTION_DAYS", default_value_t = DEFAULT_AUDIT_RETENTION_DAYS)]
        audit_retention_days: u32,
        /// Production: refuse to start without COLLOQUE_JWT_SECRET and allowed origins; no
        /// trunk dev origin, no demo data. Also set by COLLOQUE_ENV=production.
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

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(telemetry::DEFAULT_FILTER);
    match cli.command {
        Command::Serve {
            bind,
            data,
            static_dir,
            demo,
            allowed_origins,
            token_ttl_secs,
            session_idle_secs,
            send_rate_per_minute,
            request_rate_per_minute,
            ws_idle_secs,
            revocation_check_ms,
            fault_drop_wakeups,
            audit_retention_days,
            production,
            trusted_proxies,
            trust_forwarded_for,
            metrics_bind,
        } => {
            raise_open_files_limit();
            anyhow::ensure!(
                !trust_forwarded_for,
                "--trust-forwarded-for (COLLOQUE_TRUST_FORWARDED_FOR) is gone: name the proxies \
                 to believe with --trusted-proxies <address or CIDR,...> \
                 (COLLOQUE_TRUSTED_PROXIES), e.g. --trusted-proxies 127.0.0.1"
            );
            let production =
                production || std::env::var("COLLOQUE_ENV").is_ok_and(|env| env == "production");
            let limits = Limits {
                session_idle: Duration::from_secs(session_idle_secs),
                sends: RateLimit::per_minute(send_rate_per_minute),
                requests: RateLimit::per_minute(request_rate_per_minute),
                ws_idle_timeout: Duration::from_secs(ws_idle_secs),
                revocation_check: Duration::from_millis(revocation_check_ms.max(10)),
                ..Limits::default()
            };
            let config = Config {
                production,
                trusted_proxies,
                audit_retention_days,
                limits,
                static_dir,
                demo,
                allowed_origins: allowed_origins
                    .into_iter()
                    .map(|origin| origin.trim().to_owned())
                    .filter(|origin| !origin.is_empty())
                    .collect(),
                token_ttl_secs,
                jwt_secret: std::env::var("COLLOQUE_JWT_SECRET")
                    .ok()
                    .filter(|secret| !secret.is_empty())
                    .map(SecretString::from),
                database_url: Some(data.database_url()?),
                nats_url: data.nats_url.clone(),
                metrics_bind,
                fault_drop_wakeups,
                ..Config::new(bind, data.data_dir)
            };
            serve(config).await
        }
        Command::AddUser {
            data,
            role,
            name,
            email,
            speciality,
        } => {
            let pool = open(&data).await?;
            let passwords = PasswordHasher::new(Argon2Cost::OWASP)?;
            let password = read_password()?;
            let id = admin::add_user(
                &pool,
                &passwords,
                role.into(),
                &name,
                &email,
                speciality.as_deref(),
                password,
            )
            .await?;
            println!("created user {id} ({})", email.trim().to_lowercase());
            Ok(())
        }
        Command::ImportUsers {
            data,
            file,
            hash_cost,
        } => {
            let cost = match hash_cost {
                HashCost::Owasp => Argon2Cost::OWASP,
                HashCost::Benchmark => {
                    anyhow::ensure!(
                        !std::env::var("COLLOQUE_ENV").is_ok_and(|env| env == "production"),
                        "--hash-cost benchmark is refused in production"
                    );
                    eprintln!("warning: benchmark hash cost; these accounts are not protected");
                    Argon2Cost::TESTS
                }
            };
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read {}", file.display()))?;
            let lines = admin::import::parse(&text)?;
            let pool = open(&data).await?;
            let password = crate::domain::Password::parse(read_password()?)?;
            let hash = PasswordHasher::new(cost)?.hash(&password).await?;
            let report = admin::import::import(&pool, &hash, &lines).await?;
            println!(
                "imported {} accounts and {} care links",
                report.users, report.links
            );
            Ok(())
        }
        Command::Link {
            data,
            doctor,
            patient,
        } => {
            let pool = open(&data).await?;
            if admin::link(&pool, &doctor, &patient).await? {
                println!("{doctor} now follows {patient}");
            } else {
                println!("{doctor} already followed {patient}");
            }
            Ok(())
        }
        Command::AddAppointment {
            data,
            doctor,
            patient,
            at,
            duration,
            location,
            reason,
        } => {
            let starts_at = parse_naive_datetime(&at)
                .with_context(|| format!("--at {at:?} is not a date-time like 2026-12-01T09:30"))?;
            let pool = open(&data).await?;
            let id = admin::add_appointment(
                &pool, &doctor, &patient, starts_at, duration, &location, &reason,
            )
            .await?;
            println!("created appointment {id}");
            Ok(())
        }
        Command::DisableUser { data, email } => {
            let pool = open(&data).await?;
            let user = admin::set_disabled(&pool, &email, true).await?;
            println!("disabled {email}");
            // The instances close the account's sockets at once; without NATS, each notices
            // within its revocation check.
            if let Some(url) = &data.nats_url
                && let Err(error) =
                    crate::bus::announce(url, user, crate::bus::Event::Sessions).await
            {
                eprintln!(
                    "warning: the instances were not told ({error:#}); they notice within seconds"
                );
            }
            Ok(())
        }
        Command::AuditExport { data, email, since } => {
            let since = match since {
                Some(text) => parse_naive_datetime(&text).with_context(|| {
                    format!("--since {text:?} is not a date-time like 2026-12-01T09:30")
                })?,
                None => colloque_protocol::Timestamp(0),
            };
            let pool = open(&data).await?;
            let records = admin::audit_export(&pool, &email, since).await?;
            let mut out = std::io::stdout().lock();
            for record in records {
                serde_json::to_writer(&mut out, &record)?;
                writeln!(out)?;
            }
            Ok(())
        }
        Command::Demo { data } => {
            let pool = open(&data).await?;
            let passwords = PasswordHasher::new(Argon2Cost::OWASP)?;
            anyhow::ensure!(
                pool.count_users().await? == 0,
                "the database already has users; demo data is only loaded into an empty database"
            );
            demo::load_demo_data(&pool, &passwords).await?;
            print_demo_logins();
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let demo = config.demo;
    let application = Application::build(config).await?;
    let address = application.local_addr();
    println!("Colloque is listening on http://{address}");
    if application.demo_loaded() || demo {
        print_demo_logins();
    }
    application.run_until_stopped().await?;
    Ok(())
}

fn print_demo_logins() {
    println!("Demo accounts (password: {}):", demo::DEMO_PASSWORD);
    for account in demo::DEMO_ACCOUNTS {
        println!(
            "  {:<8} {:<30} {}",
            account.role.as_str(),
            account.email,
            account.display_name
        );
    }
}

async fn open(data: &DataDir) -> anyhow::Result<Store> {
    let url = data.database_url()?;
    if matches!(url, DatabaseUrl::Sqlite(_)) {
        store::create_data_dir(&data.data_dir)?;
    }
    Store::connect(&url).await
}

/// Reads one line from stdin. When stdin is a terminal a prompt is shown; note that the input
/// is echoed (no terminal-control dependency), so prefer piping it: `… add-user … < file`.
fn read_password() -> anyhow::Result<SecretString> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (input is visible): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("failed to read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password given on stdin");
    Ok(SecretString::from(password))
}

/// Every socket is a file descriptor: the soft limit (often 1,024) would cap the sockets long
/// before memory does, so it is raised to the hard limit.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open files limit"),
        Err(error) => tracing::warn!(%error, "could not raise the open files limit"),
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
    fn serving_raises_the_open_files_limit_to_the_hard_limit() {
        raise_open_files_limit();
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!(soft, hard, "the soft limit is raised to the hard one");
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
            ..
        } = cli.command
        else {
            panic!("expected serve");
        };
        assert_eq!(bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(token_ttl_secs, DEFAULT_TOKEN_TTL_SECS);
        assert!(!demo);
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
