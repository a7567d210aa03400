//! Storage. One module per table holds every SQL statement touching that table; functions take
//! either the pool or a connection inside a transaction (`impl SqliteExecutor`), so the caller
//! decides the transaction boundaries (see [`crate::chat`]).

pub mod appointments;
pub mod care;
pub mod conversations;
pub mod messages;
pub mod read_cursors;
pub mod sessions;
pub mod users;

use anyhow::Context;
use colloque_protocol::Role;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

/// Opens (creating if needed) the database and applies pending migrations.
///
/// Pragmas, set on every pooled connection:
/// - `journal_mode=WAL`: readers never block the writer nor the other way round.
/// - `synchronous=FULL`: the WAL is fsynced at every commit. With the cheaper `NORMAL`, a power
///   cut can lose the last commits; but the server acknowledges a message (HTTP 201, WebSocket
///   `ack`) only *after* its commit, and the client then forgets its copy — so a commit must be
///   durable before we say it happened.
/// - `foreign_keys=ON`: SQLite leaves them off by default.
/// - `busy_timeout=5s`: a writer waits for the lock instead of failing at once.
///
/// The pool does not ping a connection before lending it (`test_before_acquire`): a SQLite
/// connection is a local file handle, and the ping was one more round trip to the connection's
/// worker thread (two thread wake-ups) on every acquire.
pub async fn connect(path: &Path) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("failed to open the database {}", path.display()))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("failed to apply database migrations")?;
    make_private(path)?;
    Ok(pool)
}

/// The database, its write-ahead log and its shared-memory index are owner-only (0600),
/// whichever command opened them first (SQLite creates them with the process's umask, often
/// world-readable). Called once they all exist: after the migrations wrote to the log.
fn make_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        for file in files.iter().filter(|file| file.exists()) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("failed to make {} owner-only", file.display()))?;
        }
    }
    Ok(())
}

/// Creates the data directory, owner-only (0700): it holds health data and the secret.
pub fn create_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("failed to create the data directory {}", dir.display()))
}

/// In production, a data directory that its group or others may enter is refused.
pub fn check_data_dir_private(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .with_context(|| format!("failed to read {}", dir.display()))?
            .permissions()
            .mode();
        anyhow::ensure!(
            mode & 0o077 == 0,
            "the data directory {} is open to its group or to others (mode {:o}); it holds \
             health data: chmod 700 {}",
            dir.display(),
            mode & 0o777,
            dir.display()
        );
    }
    Ok(())
}

/// Reads a role column.
pub(crate) fn parse_role(text: &str) -> Result<Role, sqlx::Error> {
    match text {
        "patient" => Ok(Role::Patient),
        "doctor" => Ok(Role::Doctor),
        other => Err(sqlx::Error::Decode(
            format!("unknown role {other:?} in the database").into(),
        )),
    }
}
