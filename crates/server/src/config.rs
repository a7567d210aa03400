//! Server configuration: one plain struct, filled by the CLI (flags with `COLLOQUE_*`
//! environment overrides, see [`crate::cli`]) or by tests through [`Config::for_tests`].

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The default access-token lifetime: 12 hours. There is no refresh token yet, so a shorter
/// lifetime would log people out in the middle of a consultation day; revocation (logout) is
/// server-side, so a stolen token dies with its session.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 12 * 60 * 60;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// Holds `colloque.db` (and its WAL files) and `jwt_secret`. Created on first start.
    pub data_dir: PathBuf,
    /// The built web app (trunk's `dist/`), served with a fallback to `index.html`.
    pub static_dir: Option<PathBuf>,
    /// The HS256 signing secret (at least 32 bytes). When absent, a random secret is
    /// generated once into `<data_dir>/jwt_secret` (mode 0600) and reused.
    pub jwt_secret: Option<SecretString>,
    /// Origins allowed to call the API cross-origin (CORS). Empty: same origin only.
    pub allowed_origins: Vec<String>,
    /// Load the demo data when the database has no users.
    pub demo: bool,
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
    /// Production defaults for a given data directory (used by the CLI before applying flags).
    pub fn new(bind: SocketAddr, data_dir: PathBuf) -> Config {
        Config {
            bind,
            data_dir,
            static_dir: None,
            jwt_secret: None,
            allowed_origins: Vec::new(),
            demo: false,
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            argon2: Argon2Cost::OWASP,
        }
    }

    /// A configuration for tests: a random local port, the given (temporary) data directory,
    /// cheap password hashing, no demo data, a generated JWT secret.
    pub fn for_tests(data_dir: PathBuf) -> Config {
        Config {
            argon2: Argon2Cost::TESTS,
            ..Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir)
        }
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("colloque.db")
    }

    /// The generated JWT secret's file.
    pub fn secret_path(&self) -> PathBuf {
        self.data_dir.join("jwt_secret")
    }
}
