//! The command line: `serve` and the administration commands. Every flag has a `COLLOQUE_*`
//! environment override; the JWT secret is read from the environment only
//! (`COLLOQUE_JWT_SECRET`), never from a flag.

use crate::auth::PasswordHasher;
use crate::config::{Argon2Cost, Config, Limits, RateLimit};
use crate::startup::Application;
use crate::store::{self, DatabaseUrl, Store};
use crate::util::parse_naive_datetime;
use crate::{admin, audit, demo, telemetry};
use anyhow::Context;
use clap::Parser;
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

mod args;
mod mode;

pub use args::{Cli, Command, DataDir, HashCost, RoleArg};

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
            dev,
            production,
            trusted_proxies,
            trust_forwarded_for,
            require_mfa_for_doctors,
            metrics_bind,
            max_attachment_bytes,
            max_attachments_per_message,
            attachment_quota_bytes,
            min_upload_bytes_per_second,
            mail_from,
            public_url,
            vapid_subject,
            email_delay_secs,
        } => {
            raise_open_files_limit();
            anyhow::ensure!(
                !trust_forwarded_for,
                "--trust-forwarded-for (COLLOQUE_TRUST_FORWARDED_FOR) is gone: name the proxies \
                 to believe with --trusted-proxies <address or CIDR,...> \
                 (COLLOQUE_TRUSTED_PROXIES), e.g. --trusted-proxies 127.0.0.1"
            );
            let environment = std::env::var("COLLOQUE_ENV").ok();
            let production = mode::production_mode(dev, production, environment.as_deref())?;
            let limits = Limits {
                session_idle: Duration::from_secs(session_idle_secs),
                sends: RateLimit::per_minute(send_rate_per_minute),
                requests: RateLimit::per_minute(request_rate_per_minute),
                ws_idle_timeout: Duration::from_secs(ws_idle_secs),
                revocation_check: Duration::from_millis(revocation_check_ms.max(10)),
                require_mfa_for_doctors,
                attachments: crate::attachments::AttachmentLimits {
                    max_file_bytes: max_attachment_bytes,
                    per_message: usize::from(max_attachments_per_message),
                    quota_bytes: attachment_quota_bytes,
                    min_upload_bytes_per_second,
                    ..Default::default()
                },
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
                notify: crate::notify::NotifyConfig {
                    smtp_url: std::env::var("COLLOQUE_SMTP_URL")
                        .ok()
                        .filter(|url| !url.is_empty())
                        .map(SecretString::from),
                    from: mail_from,
                    public_url,
                    vapid_private_key: std::env::var("COLLOQUE_VAPID_PRIVATE_KEY")
                        .ok()
                        .filter(|key| !key.is_empty())
                        .map(SecretString::from),
                    vapid_subject,
                    rules: crate::notify::Rules {
                        delay_ms: i64::try_from(email_delay_secs.saturating_mul(1000))
                            .unwrap_or(i64::MAX),
                        ..crate::notify::Rules::default()
                    },
                    ..crate::notify::NotifyConfig::default()
                },
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
                    crate::bus::announce(url, &[(user, crate::bus::Event::Sessions)]).await
            {
                eprintln!(
                    "warning: the instances were not told ({error:#}); they notice within seconds"
                );
            }
            Ok(())
        }
        Command::ResetMfa { data, email } => {
            let pool = open(&data).await?;
            let (user, had) = admin::reset_mfa(&pool, &email).await?;
            if had {
                println!("multi-factor authentication reset for {email}; its sessions ended");
            } else {
                println!("{email} had no multi-factor authentication; its sessions ended");
            }
            if let Some(url) = &data.nats_url
                && let Err(error) =
                    crate::bus::announce(url, &[(user, crate::bus::Event::Sessions)]).await
            {
                eprintln!(
                    "warning: the instances were not told ({error:#}); they notice within seconds"
                );
            }
            Ok(())
        }
        Command::RotateOutboxKey { data, email } => {
            let pool = open(&data).await?;
            admin::rotate_outbox_key(&pool, &email).await?;
            println!("rotated the outbox key of {email}");
            Ok(())
        }
        Command::Unlink {
            data,
            doctor,
            patient,
        } => {
            let pool = open(&data).await?;
            let unlinked = admin::unlink(&pool, &doctor, &patient).await?;
            match (unlinked.was_linked, unlinked.closed) {
                (false, None) => println!("{doctor} did not follow {patient}; nothing changed"),
                (_, None) => println!("{doctor} no longer follows {patient}"),
                (_, Some(id)) => {
                    println!("{doctor} no longer follows {patient}; conversation {id} closed");
                }
            }
            // The closed conversation reaches both users' sockets on every instance at once;
            // without NATS, their apps see it when they next load their conversations (and
            // any send is refused from now on either way).
            if let (Some(url), Some(conversation)) = (&data.nats_url, unlinked.closed) {
                let event = crate::bus::Event::Conversation { conversation };
                let events = [(unlinked.doctor, event), (unlinked.patient, event)];
                if let Err(error) = crate::bus::announce(url, &events).await {
                    eprintln!("warning: the instances were not told ({error:#})");
                }
            }
            Ok(())
        }
        Command::AuditVerify { data } => {
            let pool = open(&data).await?;
            match admin::audit_verify(&pool).await? {
                audit::Verification::Intact {
                    rows,
                    unchained,
                    head_id,
                    head_hash,
                } => {
                    println!("OK: {rows} rows chained, head row {head_id}, head hash {head_hash}");
                    if unchained > 0 {
                        println!("({unchained} older rows were written before the chain began)");
                    }
                    Ok(())
                }
                audit::Verification::Broken(broken) => {
                    println!("BROKEN at row {}: {}", broken.id, broken.reason);
                    anyhow::bail!("the audit chain is broken at row {}", broken.id)
                }
            }
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
    println!(
        "Notification e-mails go to {}",
        application.mail_destination()
    );
    println!("Web Push is signed with {}", application.push_key_source());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_raises_the_open_files_limit_to_the_hard_limit() {
        raise_open_files_limit();
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!(soft, hard, "the soft limit is raised to the hard one");
    }
}
