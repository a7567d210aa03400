//! The API contract: schemathesis (a property-based API tester, from PyPI) against the real
//! server, which must find nothing the OpenAPI document (`GET /api/openapi.json`) does not
//! promise. Used by `cargo xtask test` and `cargo xtask contract`.
//!
//! The server runs with the demo data on a free loopback port and a fresh data directory;
//! schemathesis runs authenticated as a demo user (a patient, then a doctor: their routes
//! answer differently), with every check, the stateful phase (the document's links), and a
//! bounded number of examples per operation, and excludes the routes that would end the
//! session it tests with (logout, ending a session, changing the password).

use crate::report::Counts;
use crate::{Result, step};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Pinned: a new schemathesis brings new checks and generators, which belong in a commit of
/// their own, not in whatever run happens to install it.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// Test cases per operation and phase: about 30 s per role on 2 cores.
const MAX_EXAMPLES: &str = "100";

/// Written next to the run (schemathesis reads `schemathesis.toml` from its directory).
const SCHEMATHESIS_TOML: &str = r#"# One `include-name` ("METHOD path") per block: `include-path` and `include-method` side by
# side would be two filters that either match, so every POST would take the block.
[[operations]]
include-name = "POST /api/attachments"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 413, 415, 429, "5xx"]

# An id in the body that names nothing the caller may use (an attachment, a reply template, a
# covering doctor) is 422 `unknown_reference`: a schema can say "an integer", not "one of your
# templates", as it cannot say "an existing conversation" (which is why 404 is expected by
# default). The same default statuses, and 422, for the two operations that take such ids.
[[operations]]
include-name = ["POST /api/conversations/{id}/messages", "POST /api/me/absences"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 422, 429, "5xx"]
"#;

/// The routes that end the session schemathesis tests with.
const EXCLUDED_PATHS: [&str; 3] = [
    "/api/auth/logout",
    "/api/sessions/{id}/end",
    "/api/me/password",
];

/// Who schemathesis logs in as: (label, demo email).
const ROLES: [(&str, &str); 2] = [
    ("patient", "emma.petit@colloque.test"),
    ("doctor", "dr.martin@colloque.test"),
];

/// The demo accounts' password (crates/server/src/demo.rs).
const DEMO_PASSWORD: &str = "colloque-demo";

/// How long the server may take to answer its health check.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Installs schemathesis if needed, then runs it against `server` (a `colloque-server`
/// binary) once per role. Each role's run counts its JUnit test cases.
pub fn run_contract(root: &Path, server: &Path) -> Vec<(String, Counts)> {
    let schemathesis = match ensure_schemathesis(root) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("    {e}");
            return vec![("contract".into(), broken())];
        }
    };
    ROLES
        .iter()
        .map(|(role, email)| {
            let counts = run_role(root, server, &schemathesis, role, email).unwrap_or_else(|e| {
                eprintln!("    contract ({role}): {e}");
                broken()
            });
            (format!("contract ({role})"), counts)
        })
        .collect()
}

fn broken() -> Counts {
    Counts {
        broken: true,
        ..Counts::default()
    }
}

/// schemathesis in a private virtual environment under `.tools/schemathesis/`.
fn ensure_schemathesis(root: &Path) -> Result<PathBuf> {
    crate::python::ensure_pip_tool(
        root,
        "schemathesis",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
        &format!("version {SCHEMATHESIS_VERSION}"),
    )
}

fn run_role(
    root: &Path,
    server: &Path,
    schemathesis: &Path,
    role: &str,
    email: &str,
) -> Result<Counts> {
    let dir = root.join("target/contract").join(role);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let port = free_port()?;
    step(&format!(
        "API contract as a {role} ({email}): schemathesis {SCHEMATHESIS_VERSION} against \
         the server on 127.0.0.1:{port}"
    ));
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let child = Command::new(server)
        .args(["serve", "--dev", "--demo", "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env_remove("COLLOQUE_ENV")
        .env_remove("COLLOQUE_STATIC_DIR")
        .env_remove("COLLOQUE_DATABASE_URL")
        .env_remove("COLLOQUE_NATS_URL")
        // The per-user budgets (1,200 requests and 100 messages a minute) would answer 429,
        // which the document lists, to most of what schemathesis sends after the first minute:
        // the contract, not the budget, is under test here (tests/api covers the budgets).
        .env("COLLOQUE_REQUEST_RATE_PER_MINUTE", "1000000")
        .env("COLLOQUE_SEND_RATE_PER_MINUTE", "1000000")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", server.display()))?;
    let mut server = KillOnDrop(child);
    wait_for_health(&mut server.0, port)?;
    let token = login(port, email)?;

    // A schema says "binary", not "a PDF, JPEG, PNG or HEIC whose bytes hold together": the
    // upload's documented refusals of bytes that are not (413, 415) are expected answers to
    // "valid" data there, and only there (docs/contract.md). Every other check still runs.
    std::fs::write(dir.join("schemathesis.toml"), SCHEMATHESIS_TOML)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let junit = dir.join("junit.xml");
    let mut command = Command::new(schemathesis);
    command
        .current_dir(&dir)
        .arg("run")
        .arg(format!("http://127.0.0.1:{port}/api/openapi.json"))
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES])
        // One worker: Python 3.11's `ast.parse` is not thread-safe, and hypothesis calls it to
        // describe its strategies (a "recursion depth mismatch" error with two).
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(&junit)
        .arg("--no-color")
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"));
    for path in EXCLUDED_PATHS {
        command.args(["--exclude-path", path]);
    }
    // The token is on schemathesis's command line; print it without.
    eprintln!(
        "    schemathesis run …/api/openapi.json --checks all --phases \
         examples,coverage,fuzzing,stateful --max-examples {MAX_EXAMPLES} --exclude-path {}",
        EXCLUDED_PATHS.join(" --exclude-path ")
    );
    let status = command
        .status()
        .map_err(|e| format!("could not start schemathesis: {e}"))?;
    let alive = server.0.try_wait().map_err(|e| e.to_string())?.is_none();
    drop(server);

    let mut counts = junit_counts(&junit).unwrap_or_default();
    if !alive {
        eprintln!(
            "    the server stopped during the run: see {}",
            dir.join("server.log").display()
        );
        counts.failed += 1;
    }
    if !status.success() && counts.failed == 0 {
        eprintln!("    schemathesis exited with {status} without a failing test case");
        counts.broken = true;
    }
    Ok(counts)
}

/// Adds up `tests`, `failures` and `errors` over the report's `<testsuite>` elements.
fn junit_counts(path: &Path) -> Option<Counts> {
    let xml = std::fs::read_to_string(path).ok()?;
    let mut counts = Counts::default();
    for suite in xml.split("<testsuite ").skip(1) {
        let head = suite.split('>').next()?;
        let number = |name: &str| -> u64 {
            head.split(&format!(" {name}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        let bad = number("failures") + number("errors");
        counts.failed += bad;
        counts.passed += number("tests").saturating_sub(bad + number("skipped"));
    }
    Some(counts)
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

fn wait_for_health(server: &mut Child, port: u16) -> Result {
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("the server stopped at start ({status})"));
        }
        if matches!(http(port, "GET", "/api/health", None), Ok((200, _))) {
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!(
                "the server did not answer /api/health within {START_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Logs a demo user in and returns the access token.
fn login(port: u16, email: &str) -> Result<String> {
    let body = format!(r#"{{"email":"{email}","password":"{DEMO_PASSWORD}"}}"#);
    let (status, answer) = http(port, "POST", "/api/auth/login", Some(&body))?;
    if status != 200 {
        return Err(format!("the demo login of {email} answered {status}"));
    }
    answer
        .split("\"token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .ok_or_else(|| "the login answer has no token".to_owned())
}

/// One HTTP/1.1 request over loopback (the task runner has no dependencies): status and body.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String)> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {head:?}"))?;
    Ok((status, body.to_owned()))
}

/// The server process, stopped whatever happens to the run.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_reports_are_counted_per_suite() {
        let dir = std::env::temp_dir().join(format!("xtask-junit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("junit.xml");
        std::fs::write(
            &path,
            r#"<?xml version="1.0" ?><testsuites><testsuite name="schemathesis" tests="12" failures="2" errors="1" skipped="3" time="1.0"><testcase name="GET /api/me"/></testsuite></testsuites>"#,
        )
        .unwrap();
        let counts = junit_counts(&path).unwrap();
        assert_eq!((counts.passed, counts.failed), (6, 3));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
