//! Safe by default: `colloque-server serve` runs in production mode unless development is asked
//! for. The real binary, as an operator starts it.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to refuse, or to answer its health check.
const PATIENCE: Duration = Duration::from_secs(60);

/// `colloque-server serve <args>` on a free loopback port and a fresh data directory, with no
/// `COLLOQUE_*` variable inherited from the environment running the tests.
fn serve(data_dir: &std::path::Path, port: u16, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_colloque-server"));
    command
        .arg("serve")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("COLLOQUE_") {
            command.env_remove(name);
        }
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// Waits for a server that must refuse to start, and returns what it said.
fn refused(mut command: Command) -> Output {
    let child = command.spawn().expect("colloque-server starts");
    let output = wait_with_deadline(child);
    assert!(
        !output.status.success(),
        "it must refuse to start: {output:?}"
    );
    output
}

fn wait_with_deadline(mut child: Child) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("the child's status").is_none() {
        if started.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("the server neither refused nor stopped within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("the child's output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_bare_serve_is_production_and_refuses_to_start_without_a_secret_and_origins() {
    let data = tempfile::tempdir().unwrap();

    let output = refused(serve(data.path(), free_port(), &[]));

    let said = stderr(&output);
    assert!(said.contains("production mode"), "{said}");
    assert!(said.contains("COLLOQUE_JWT_SECRET"), "{said}");
    assert!(said.contains("COLLOQUE_ALLOWED_ORIGINS"), "{said}");
    assert!(
        said.contains("serve --dev"),
        "it says how to try it: {said}"
    );
    assert!(
        !data.path().join("jwt_secret").exists(),
        "production never generates a secret"
    );
}

#[tokio::test]
async fn demo_data_needs_development_mode() {
    let data = tempfile::tempdir().unwrap();
    let mut command = serve(data.path(), free_port(), &["--demo"]);
    // Even with everything production needs, the demo accounts are refused.
    command
        .env("COLLOQUE_JWT_SECRET", "s".repeat(32))
        .env("COLLOQUE_ALLOWED_ORIGINS", "https://colloque.example.fr");

    let said = stderr(&refused(command));

    assert!(said.contains("--dev --demo"), "{said}");
}

#[tokio::test]
async fn an_unknown_environment_name_is_refused_rather_than_read_as_development() {
    let data = tempfile::tempdir().unwrap();
    let mut command = serve(data.path(), free_port(), &[]);
    command.env("COLLOQUE_ENV", "developpement");

    let said = stderr(&refused(command));

    assert!(said.contains("COLLOQUE_ENV"), "{said}");
}

#[tokio::test]
async fn serve_dev_starts_with_a_generated_secret_and_the_demo_data() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = serve(data.path(), port, &["--dev", "--demo"])
        .spawn()
        .expect("colloque-server starts");
    let mut child = KillOnDrop(child);

    let client = reqwest::Client::new();
    let started = Instant::now();
    let health = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            let mut said = String::new();
            if let Some(mut pipe) = child.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut said);
            }
            panic!("serve --dev stopped ({status}): {said}");
        }
        match client
            .get(format!("http://127.0.0.1:{port}/api/health"))
            .send()
            .await
        {
            Ok(response) => break response,
            Err(_) if started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("serve --dev did not answer within {PATIENCE:?}: {error}"),
        }
    };

    assert_eq!(health.status(), 200);
    assert!(
        data.path().join("jwt_secret").exists(),
        "a generated secret"
    );
    let login = client
        .post(format!("http://127.0.0.1:{port}/api/auth/login"))
        .json(&serde_json::json!({
            "email": "emma.petit@colloque.test",
            "password": colloque_server::DEMO_PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "the demo accounts were loaded");
}

/// The server process, killed when the test ends (even by a failed assertion).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
