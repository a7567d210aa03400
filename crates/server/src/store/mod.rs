//! The storage boundary. Everything the server keeps goes through [`Store`] (one operation,
//! its own short transaction) or a [`Tx`] (several operations that commit together); callers
//! never see a connection type nor SQL.
//!
//! Two backends, chosen at start by `--database-url`:
//! - [`sqlite`]: one file in the data directory, the zero-setup default;
//! - [`postgres`]: the source of truth that several server instances share.
//!
//! Both run the same statements (`tables/`, compiled once per backend) and keep their own
//! migrations (`migrations/sqlite/`, `migrations/postgres/`; a test compares the two schemas).
//! Where the dialects or the concurrency models differ (taking the write lock, locking rows,
//! the batched send), each backend has its own function with the same name and meaning.

mod data_dir;
pub mod model;
// Each file of `tables/` is compiled once per backend, on purpose (see the module docs).
#[allow(clippy::duplicate_mod)]
pub mod postgres;
#[allow(clippy::duplicate_mod)]
pub mod sqlite;

pub use data_dir::{check_data_dir_private, create_data_dir};
pub use model::*;

use std::path::{Path, PathBuf};

/// Where the data lives, as given by `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://<path>`: a file.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: a server (user, password, host, port, database and
    /// options as libpq reads them).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a `--database-url`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            anyhow::ensure!(!path.is_empty(), "the SQLite URL names no file: {url}");
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        anyhow::bail!(
            "--database-url must start with sqlite:// or postgres:// (got {:?})",
            url.split(':').next().unwrap_or_default()
        )
    }

    /// The default: `colloque.db` in the data directory.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("colloque.db"))
    }

    /// `sqlite` or `postgres`, for logs and the health check (never the URL: it may hold a
    /// password).
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub enum Store {
    /// One SQLite file.
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL server.
    Postgres(sqlx::PgPool),
}

/// A transaction that writes, from [`Store::begin_write`]. Dropped without [`Tx::commit`], it
/// rolls back.
pub enum Tx {
    /// On SQLite, holding the write lock.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$b` naming the backend module of `$store` and `$db` its pool.
macro_rules! on_pool {
    ($store:expr, |$db:ident| $body:expr) => {
        match $store {
            Store::Sqlite($db) => $body,
            Store::Postgres($db) => $body,
        }
    };
    ($store:expr, |$db:ident, $b:ident| $body:expr) => {
        match $store {
            Store::Sqlite($db) => {
                use sqlite as $b;
                $body
            }
            Store::Postgres($db) => {
                use postgres as $b;
                $body
            }
        }
    };
}

/// Runs `$body` with `$b` naming the backend module of `$tx` and `$conn` its connection.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident, $b:ident| $body:expr) => {
        match $tx {
            Tx::Sqlite(tx) => {
                use sqlite as $b;
                let $conn = &mut **tx;
                $body
            }
            Tx::Postgres(tx) => {
                use postgres as $b;
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// Declares operations that run alike on the pool ([`Store`], each in its own implicit
/// transaction) and inside a [`Tx`], as calls to the same table function of either backend.
macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $module:ident::$function:ident;
    )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, sqlx::Error> {
                    on_pool!(self, |db, b| b::$module::$function(db, $($arg),*).await)
                }
            )*
        }
        impl Tx {
            $(
                $(#[$doc])*
                pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, sqlx::Error> {
                    on_tx!(self, |conn, b| b::$module::$function(conn, $($arg),*).await)
                }
            )*
        }
    };
}

// The audit trail's appends, purge and verification (declared after the macros it uses).
mod audit_trail;
pub use audit_trail::PurgeError;
// Web Push's subscriptions and claims (declared after the macros it uses).
pub mod push;
pub use push::{PushCandidate, StoredPushSubscription};
// The operations of one table function each, by group, and those written out by hand
// (declared after the macros they use).
mod accounts;
mod compound;
mod practice;

impl Store {
    /// Opens the database (creating a SQLite file if needed) and applies pending migrations.
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        Ok(match url {
            DatabaseUrl::Sqlite(path) => Self::Sqlite(sqlite::connect(path).await?),
            DatabaseUrl::Postgres(url) => Self::Postgres(postgres::connect(url, 16).await?),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Starts a transaction that writes (see each backend's `begin_write`).
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(sqlite::begin_write(pool).await?),
            Self::Postgres(pool) => Tx::Postgres(postgres::begin_write(pool).await?),
        })
    }

    /// Answers when the database does (the health check).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self, |db| {
            sqlx::query("SELECT 1").execute(db).await?;
        });
        Ok(())
    }

    /// Connections open and idle in the pool (metrics).
    pub fn pool_use(&self) -> (u32, usize) {
        on_pool!(self, |db| (db.size(), db.num_idle()))
    }

    /// Closes every connection (shutdown).
    pub async fn close(&self) {
        on_pool!(self, |db| db.close().await)
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Rolls back now, releasing the transaction's locks before it returns (a dropped
    /// transaction is rolled back too, but later, when the pool takes its connection back).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}
