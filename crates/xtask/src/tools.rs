//! Installs what the build and the tests need, on a fresh machine with only Rust, from the
//! registries this project may reach (crates.io, npm, Debian apt). Every step is skipped when
//! the right version already answers. See `../shared/docs/toolchain.md` for why each choice.

use crate::{Result, run, step};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// trunk 0.22 declares rust-version 1.96.1; 0.21.14 is the newest that builds on Rust 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen (108) and crates.io's wasm-opt (0.116) reject wasm-bindgen 0.2.130 output.
const BINARYEN_VERSION: &str = "132.0.0";
/// Minifies wasm-bindgen's JS glue after trunk (trunk 0.21's own JS minifier fails on it).
const TERSER_VERSION: &str = "5.51.2";
/// Minifies `static/app.css` after trunk (trunk's own minifying, lightningcss too, comes only
/// with its JS minifier, which fails on the glue).
const LIGHTNINGCSS_VERSION: &str = "1.33.0";
/// The accessibility engine the end-to-end tests run on every screen (tests/e2e_a11y.rs).
pub const AXE_VERSION: &str = "4.14.1";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Debian's Chromium, for the browser tests and the app benchmark.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The benchmark's first-load measurement; newer majors need Node 22, the machine has Node 20.
const LIGHTHOUSE_VERSION: &str = "12.2.3";

/// Where the tools are, for the commands that need them.
pub struct ToolEnv {
    path: OsString,
    chromedriver: Option<PathBuf>,
}

impl ToolEnv {
    /// A command that finds trunk, wasm-bindgen, wasm-opt (and ChromeDriver when installed).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("PATH", &self.path);
        if let Some(driver) = &self.chromedriver {
            cmd.env("CHROMEDRIVER", driver);
        }
        cmd
    }
}

/// Installs everything missing; `browser` adds Chromium and ChromeDriver (for the tests).
pub fn ensure_all(root: &Path, browser: bool) -> Result<ToolEnv> {
    let cargo_bin = cargo_home().join("bin");
    let npm_bin = root.join(".tools/node_modules/.bin");
    let mut paths = vec![npm_bin.clone(), cargo_bin.clone()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(paths).map_err(|e| e.to_string())?;
    let env = ToolEnv {
        path,
        chromedriver: None,
    };

    ensure_wasm_target()?;
    ensure_rust_src()?;
    ensure_cargo_tool(
        &env,
        "trunk",
        TRUNK_VERSION,
        &["install", "trunk", "--version", TRUNK_VERSION, "--locked"],
        "about 7 minutes on 2 cores",
    )?;
    let bindgen = wasm_bindgen_version(root)?;
    // No --locked: wasm-bindgen-cli's own lockfile wants a webpki-roots version the registry
    // mirror here lacks.
    ensure_cargo_tool(
        &env,
        "wasm-bindgen",
        &bindgen,
        &["install", "wasm-bindgen-cli", "--version", &bindgen],
        "about 2 minutes",
    )?;
    ensure_npm_tools(root, &env, &npm_bin)?;

    let chromedriver = if browser {
        Some(ensure_browser()?)
    } else {
        None
    };
    Ok(ToolEnv {
        chromedriver,
        ..env
    })
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cargo")
        })
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(env: &ToolEnv, program: &str) -> Option<String> {
    let out = env.command(program).arg("--version").output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    })
}

fn ensure_wasm_target() -> Result {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed to add the {WASM_TARGET} target: {e}"))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    step(&format!("Installing the Rust target {WASM_TARGET}"));
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// The standard library's source, which the release build of the app compiles with the app
/// (`crate::bundle::SMALL_WASM_ENV`).
fn ensure_rust_src() -> Result {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("rustc --print sysroot: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if sysroot
        .join("lib/rustlib/src/rust/library/std/Cargo.toml")
        .exists()
    {
        return Ok(());
    }
    step("Installing the Rust component rust-src (the standard library's source)");
    run(Command::new("rustup").args(["component", "add", "rust-src"]))
}

fn ensure_cargo_tool(
    env: &ToolEnv,
    program: &str,
    version: &str,
    install_args: &[&str],
    how_long: &str,
) -> Result {
    match version_of(env, program) {
        Some(v) if v.split_whitespace().any(|w| w == version) => return Ok(()),
        Some(v) => step(&format!(
            "{program} is {v}, this project pins {version}: installing ({how_long})"
        )),
        None => step(&format!(
            "Installing {program} {version} with cargo install ({how_long}, once per machine)"
        )),
    }
    run(env.command("cargo").args(install_args))?;
    match version_of(env, program) {
        Some(v) if v.split_whitespace().any(|w| w == version) => Ok(()),
        other => Err(format!(
            "{program} still answers {other:?} after installing {version}"
        )),
    }
}

/// The wasm-bindgen version pinned in Cargo.lock: the CLI must match it exactly.
fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock =
        std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return Ok(v.to_string());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

/// wasm-opt (binaryen) and terser, from npm into `.tools/`.
fn ensure_npm_tools(root: &Path, env: &ToolEnv, npm_bin: &Path) -> Result {
    let binaryen = format!(
        "version {}",
        BINARYEN_VERSION.split('.').next().unwrap_or_default()
    );
    let have = |tool: &str, version: &str| {
        npm_bin.join(tool).exists() && version_of(env, tool).is_some_and(|v| v.contains(version))
    };
    if have("wasm-opt", &binaryen)
        && have("terser", TERSER_VERSION)
        && have_package(root, "lightningcss-cli", LIGHTNINGCSS_VERSION)
        && have_axe(root)
    {
        return Ok(());
    }
    step(&format!(
        "Installing wasm-opt (binaryen {BINARYEN_VERSION}), terser {TERSER_VERSION}, \
         lightningcss {LIGHTNINGCSS_VERSION} and axe-core {AXE_VERSION} from npm into .tools/"
    ));
    if Command::new("npm").arg("--version").output().is_err() {
        let install = "apt-get update && apt-get install -y npm";
        if !is_root() {
            return Err(format!(
                "npm is needed to install wasm-opt and terser. Run as root:\n    {install}"
            ));
        }
        step("Installing npm with apt (to fetch wasm-opt and terser from the npm registry)");
        run(Command::new("sh")
            .args(["-c", install])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    run(env.command("npm").args([
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        &root.join(".tools").to_string_lossy(),
        &format!("binaryen@{BINARYEN_VERSION}"),
        &format!("terser@{TERSER_VERSION}"),
        &format!("lightningcss-cli@{LIGHTNINGCSS_VERSION}"),
        &format!("axe-core@{AXE_VERSION}"),
    ]))
}

/// axe-core's browser bundle, which the accessibility test injects into each screen.
pub fn axe_script(root: &Path) -> PathBuf {
    root.join(".tools/node_modules/axe-core/axe.min.js")
}

fn have_axe(root: &Path) -> bool {
    axe_script(root).exists() && have_package(root, "axe-core", AXE_VERSION)
}

/// Whether `.tools/` holds this version of an npm package (for those whose command prints
/// another version than the package's: lightningcss-cli 1.33.0 says "1.0.0-alpha.72").
fn have_package(root: &Path, package: &str, version: &str) -> bool {
    let manifest = root.join(format!(".tools/node_modules/{package}/package.json"));
    std::fs::read_to_string(manifest)
        .is_ok_and(|text| text.contains(&format!("\"version\": \"{version}\"")))
}

/// Lighthouse from npm into `.tools/lighthouse/` (its own prefix: it is only for the
/// benchmark). Returns its command-line entry point.
pub fn ensure_lighthouse(root: &Path, env: &ToolEnv) -> Result<PathBuf> {
    let prefix = root.join(".tools/lighthouse");
    let cli = prefix.join("node_modules/.bin/lighthouse");
    let installed = cli.exists()
        && env
            .command(&cli.to_string_lossy())
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == LIGHTHOUSE_VERSION);
    if installed {
        return Ok(cli);
    }
    step(&format!(
        "Installing Lighthouse {LIGHTHOUSE_VERSION} from npm into .tools/lighthouse/"
    ));
    run(env.command("npm").args([
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        &prefix.to_string_lossy(),
        &format!("lighthouse@{LIGHTHOUSE_VERSION}"),
    ]))?;
    Ok(cli)
}

/// Chromium and a matching ChromeDriver from Debian's packages.
fn ensure_browser() -> Result<PathBuf> {
    let chromium = Path::new(CHROMIUM);
    let driver = PathBuf::from("/usr/bin/chromedriver");
    let brotli = Command::new("brotli").arg("--version").output().is_ok();
    if chromium.exists() && driver.exists() && brotli {
        return Ok(driver);
    }
    let install = "apt-get update && apt-get install -y chromium chromium-driver brotli";
    if !is_root() {
        return Err(format!(
            "the browser tests need Chromium and ChromeDriver. Run as root:\n    {install}"
        ));
    }
    step("Installing Chromium, ChromeDriver and brotli with apt (about 30 s)");
    run(Command::new("sh")
        .args(["-c", install])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    if chromium.exists() && driver.exists() {
        Ok(driver)
    } else {
        Err("apt-get finished but /usr/bin/chromium or /usr/bin/chromedriver is missing".into())
    }
}

/// PostgreSQL's server, `nats-server` and nginx from Debian's packages: the engines of a
/// cluster, for its tests (`test`), `cluster`, and the cluster benchmark and chaos run. The
/// tests start private instances of them (crates/testbed), never the machine's services.
pub fn ensure_cluster_engines() -> Result {
    let postgres = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|version| version.path().join("bin/initdb").exists());
    let on_path = |program: &str| {
        ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            .iter()
            .any(|dir| Path::new(dir).join(program).exists())
    };
    let missing: Vec<&str> = [
        ("postgresql", postgres),
        ("nats-server", on_path("nats-server")),
        ("nginx", on_path("nginx")),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(package, _)| package)
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!("apt-get update && apt-get install -y {}", missing.join(" "));
    if !is_root() {
        return Err(format!(
            "the cluster tests need PostgreSQL, nats-server and nginx. Run as root:\n    {install}"
        ));
    }
    step(&format!("Installing {} with apt", missing.join(", ")));
    run(Command::new("sh")
        .args(["-c", &install])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
