//! Python tools from PyPI, each in its own virtual environment under `.tools/<name>/`:
//! schemathesis (the API contract) and aiosmtpd (the SMTP server the e-mail tests read).

use crate::tools;
use crate::{Result, run, step};
use std::path::{Path, PathBuf};
use std::process::Command;

/// aiosmtpd, the SMTP server the notification tests run on loopback. Pinned like schemathesis.
pub const AIOSMTPD_VERSION: &str = "1.4.6";

/// aiosmtpd's command, installed if needed.
pub fn ensure_aiosmtpd(root: &Path) -> Result<PathBuf> {
    ensure_pip_tool(
        root,
        "aiosmtpd",
        &format!("aiosmtpd=={AIOSMTPD_VERSION}"),
        &format!("aiosmtpd {AIOSMTPD_VERSION}"),
    )
}

/// The command `name` of the package `requirement`, in `.tools/<name>/`, installed from PyPI
/// unless its `--version` already prints `wanted`.
pub fn ensure_pip_tool(
    root: &Path,
    name: &str,
    requirement: &str,
    wanted: &str,
) -> Result<PathBuf> {
    let venv = root.join(".tools").join(name);
    let cli = venv.join("bin").join(name);
    let answers = |cli: &Path| {
        Command::new(cli).arg("--version").output().is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains(wanted)
                || String::from_utf8_lossy(&o.stderr).contains(wanted)
        })
    };
    if answers(&cli) {
        return Ok(cli);
    }
    // A virtual environment that does not answer is rebuilt from scratch: another version, or
    // one made at another path (its scripts name that path's interpreter), which pip would
    // leave as it is.
    let _ = std::fs::remove_dir_all(&venv);
    step(&format!(
        "Installing {requirement} from PyPI into .tools/{name}/ (a Python virtual environment)"
    ));
    let python = venv.join("bin/python");
    if !python.exists() {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        if !created {
            // Debian splits venv (and its pip) into python3-venv.
            let install = "apt-get update && apt-get install -y python3 python3-venv";
            if !tools::is_root() {
                return Err(format!(
                    "{name} needs Python 3 with venv. Run as root:\n    {install}"
                ));
            }
            step("Installing python3-venv with apt");
            run(Command::new("sh")
                .args(["-c", install])
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
            let _ = std::fs::remove_dir_all(&venv);
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
    }
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
    ]))?;
    if answers(&cli) {
        Ok(cli)
    } else {
        Err(format!(
            "{} does not answer {wanted} after installing it",
            cli.display()
        ))
    }
}
