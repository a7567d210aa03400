//! The data directory: owner-only, since it holds health data and the signing secret.

use anyhow::Context;
use std::path::Path;

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
