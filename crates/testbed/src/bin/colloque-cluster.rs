//! `colloque-cluster`: a Colloque cluster on loopback for a person to try, started by
//! `cargo xtask cluster`: a private PostgreSQL, a nats-server, three `colloque-server`
//! instances with the demo data, and nginx in front on http://127.0.0.1:8080 (`--port`).
//! Runs until Ctrl-C or SIGTERM, then stops everything it started.

use anyhow::Context;
use colloque_testbed::{Cluster, ClusterOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: colloque-cluster [--port P] [--server-bin PATH] [--dist DIR] [--instances N]

  --port P           nginx's port on 127.0.0.1 (default 8080)
  --server-bin PATH  the colloque-server binary (default: next to this one)
  --dist DIR         the built app (dist/) the instances serve (default: none, API only)
  --instances N      how many server instances (default 3)
";

/// The demo accounts (`colloque-server demo`), all with the password [`DEMO_PASSWORD`].
const DEMO_ACCOUNTS: [(&str, &str); 5] = [
    (
        "dr.martin@colloque.test",
        "Dr Claire Martin, médecin généraliste",
    ),
    ("dr.durand@colloque.test", "Dr Paul Durand, cardiologue"),
    ("lucas.bernard@colloque.test", "Lucas Bernard, patient"),
    ("emma.petit@colloque.test", "Emma Petit, patient"),
    ("hugo.moreau@colloque.test", "Hugo Moreau, patient"),
];
const DEMO_PASSWORD: &str = "colloque-demo";

struct Args {
    port: u16,
    server_bin: PathBuf,
    dist: Option<PathBuf>,
    instances: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        port: 8080,
        server_bin: std::env::current_exe()
            .context("cannot find this program's own path")?
            .with_file_name("colloque-server"),
        dist: None,
        instances: 3,
    };
    let mut rest = std::env::args().skip(1);
    while let Some(flag) = rest.next() {
        if flag == "--help" || flag == "-h" {
            print!("{USAGE}");
            std::process::exit(0);
        }
        let value = rest
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--port" => {
                args.port = value
                    .parse()
                    .with_context(|| format!("--port {value}: not a port"))?;
            }
            "--server-bin" => args.server_bin = value.into(),
            "--dist" => args.dist = Some(value.into()),
            "--instances" => {
                args.instances = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .with_context(|| format!("--instances {value}: not a count"))?;
            }
            other => anyhow::bail!("unknown option {other}\n{USAGE}"),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("colloque-cluster: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args = parse_args()?;
    // Set before anything starts: a Ctrl-C during the start-up then stops what is already up
    // once the start returns (or fails), instead of killing this process outright.
    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("failed to handle Ctrl-C")?;

    let started = Instant::now();
    eprintln!(
        "Starting PostgreSQL, NATS, {} colloque-server instances and nginx…",
        args.instances
    );
    let mut options = ClusterOptions::new(&args.server_bin);
    options.instances = args.instances;
    options.proxy_port = Some(args.port);
    options.static_dir = args.dist.clone();
    options.demo = true;
    let mut cluster = Cluster::start(options)?;
    print_banner(&cluster, &args, started.elapsed());

    let mut reported = vec![false; cluster.instances.len()];
    loop {
        match stop_rx.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        for (instance, reported) in cluster.instances.iter_mut().zip(&mut reported) {
            if !*reported && !instance.is_running() {
                *reported = true;
                eprintln!(
                    "!! instance {} ({}) has exited; nginx sends its share to the others. \
                     See {}",
                    instance.number(),
                    instance.base_url(),
                    instance.log_path().display()
                );
            }
        }
    }
    eprintln!("\nStopping nginx, the instances, NATS and PostgreSQL…");
    drop(cluster);
    eprintln!("Stopped; scratch directories removed.");
    Ok(())
}

fn print_banner(cluster: &Cluster, args: &Args, took: Duration) {
    let url = cluster.url();
    println!();
    println!("Colloque cluster ready in {:.1} s.", took.as_secs_f64());
    println!();
    println!("  Open   {url}");
    if args.dist.is_none() {
        println!("         (no --dist: the API only, no app)");
    }
    println!();
    println!(
        "  nginx        {url}  (round-robin, WebSockets included; log {})",
        cluster
            .nginx
            .as_ref()
            .map(|nginx| nginx.log_path().display().to_string())
            .unwrap_or_default()
    );
    if let Some(nginx) = &cluster.nginx {
        println!(
            "               access log {}",
            nginx.access_log_path().display()
        );
    }
    for instance in &cluster.instances {
        println!(
            "  instance {}   {}  (pid {}, log {})",
            instance.number(),
            instance.base_url(),
            instance.pid().unwrap_or_default(),
            instance.log_path().display()
        );
    }
    println!(
        "  PostgreSQL   {}  (log {})",
        cluster.database_url(),
        cluster.postgres.log_path().display()
    );
    println!(
        "  NATS         {}  (log {})",
        cluster.nats.url(),
        cluster.nats.log_path().display()
    );
    println!();
    println!("  Demo accounts, password {DEMO_PASSWORD}:");
    for (email, who) in DEMO_ACCOUNTS {
        println!("    {email:<30} {who}");
    }
    println!();
    println!(
        "  Try: log in as Lucas in one window and as Dr Martin in a private one; each request \
         may reach another instance."
    );
    println!("  Stop with Ctrl-C: everything stops and its scratch directory is removed.");
    println!();
}
