use anyhow::Context;
use secrecy::SecretString;
use std::io::Write;
use std::path::Path;

/// Reads the JWT secret from `path`, or creates it: 32 random bytes, hex-encoded, written to a
/// new file readable by the owner only (0600). Restarting reuses it, so tokens survive restarts;
/// deleting the file logs everybody out.
pub fn load_or_create_secret(path: &Path) -> anyhow::Result<SecretString> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            let secret = text.trim().to_owned();
            anyhow::ensure!(
                !secret.is_empty(),
                "the JWT secret file {} is empty",
                path.display()
            );
            Ok(SecretString::from(secret))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(error) => {
            Err(error).with_context(|| format!("failed to read the JWT secret {}", path.display()))
        }
    }
}

fn create(path: &Path) -> anyhow::Result<SecretString> {
    let bytes: [u8; 32] = rand::random();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    write_new_secret(path, &hex, "JWT secret")?;
    Ok(SecretString::from(hex))
}

/// Writes a generated secret (`what`: "JWT secret", "VAPID key") to a new file readable by its
/// owner only (0600), synced; never over a file another process wrote in the meantime.
pub(crate) fn write_new_secret(path: &Path, text: &str, what: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("failed to create the {what} {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write the {what} {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new {what}");
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the JWT secret file is readable by other users; run chmod 600");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
