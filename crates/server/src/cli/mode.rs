//! Which mode `serve` runs in: production unless development is asked for.

/// Whether `serve` runs in production mode: the default. Development is asked for explicitly,
/// by `--dev` or `COLLOQUE_ENV=dev` (or `development`); `--production` and
/// `COLLOQUE_ENV=production` spell the default out. An unknown `COLLOQUE_ENV`, or a flag that
/// contradicts it, is refused rather than guessed: a typo must not start a development server.
pub fn production_mode(
    dev: bool,
    production: bool,
    environment: Option<&str>,
) -> anyhow::Result<bool> {
    let from_environment = match environment.map(str::trim) {
        None | Some("") => None,
        Some("production" | "prod") => Some(true),
        Some("dev" | "development") => Some(false),
        Some(other) => anyhow::bail!("COLLOQUE_ENV={other:?} is neither `production` nor `dev`"),
    };
    anyhow::ensure!(
        !(dev && production),
        "--dev and --production contradict each other"
    );
    let from_flags = if dev {
        Some(false)
    } else if production {
        Some(true)
    } else {
        None
    };
    match (from_flags, from_environment) {
        (Some(flags), Some(environment)) if flags != environment => anyhow::bail!(
            "{} contradicts COLLOQUE_ENV={}",
            if flags { "--production" } else { "--dev" },
            if environment { "production" } else { "dev" }
        ),
        (Some(mode), _) | (None, Some(mode)) => Ok(mode),
        (None, None) => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_is_the_default_and_development_is_asked_for() {
        assert!(production_mode(false, false, None).unwrap());
        assert!(production_mode(false, false, Some("")).unwrap());
        assert!(production_mode(false, true, None).unwrap());
        assert!(production_mode(false, false, Some("production")).unwrap());
        assert!(!production_mode(true, false, None).unwrap());
        assert!(!production_mode(false, false, Some("dev")).unwrap());
        assert!(!production_mode(false, false, Some("development")).unwrap());
        assert!(!production_mode(true, false, Some("dev")).unwrap());
        // A typo or a contradiction is refused, never read as development.
        assert!(production_mode(false, false, Some("prodution")).is_err());
        assert!(production_mode(true, false, Some("production")).is_err());
        assert!(production_mode(false, true, Some("dev")).is_err());
        assert!(production_mode(true, true, None).is_err());
    }
}
