//! Runs `cargo test` invocations, streams their output, and adds up their results into the one
//! closing line `N passed, N failed` that CI reads.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The outcome of one `cargo test` invocation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    /// The command exited non-zero although no test reported a failure (a compile error, a
    /// crashed runner, a missing browser): counted as one failure so it can never pass silently.
    pub broken: bool,
}

/// Runs a `cargo test …` command, echoing its stdout while counting `test result:` lines.
pub fn run_cargo_test(cmd: &mut Command) -> Counts {
    let shown = format!("{cmd:?}");
    let mut child = match cmd.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("could not start {shown}: {e}");
            return Counts {
                broken: true,
                ..Counts::default()
            };
        }
    };
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            println!("{line}");
            if let Some((passed, failed)) = parse_result_line(&line) {
                counts.passed += passed;
                counts.failed += failed;
            }
        }
    }
    let success = child.wait().map(|s| s.success()).unwrap_or(false);
    if !success && counts.failed == 0 {
        eprintln!("{shown} failed before reporting any failing test");
        counts.broken = true;
    }
    counts
}

/// Parses libtest's and wasm-bindgen-test-runner's summary line:
/// `test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; …`.
pub fn parse_result_line(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let number_before = |word: &str| -> Option<u64> {
        rest.split(';').find_map(|part| {
            part.trim()
                .strip_suffix(word)?
                .trim()
                .rsplit(' ')
                .next()?
                .parse()
                .ok()
        })
    };
    Some((number_before("passed")?, number_before("failed")?))
}

/// All layers' counts.
#[derive(Debug, Default)]
pub struct Summary {
    layers: Vec<(String, Counts)>,
}

impl Summary {
    pub fn add(&mut self, layer: &str, counts: Counts) {
        self.layers.push((layer.to_string(), counts));
    }

    /// A step that is not a test run failed (e.g. the release build).
    pub fn record_failure(&mut self, what: &str) {
        self.add(
            what,
            Counts {
                broken: true,
                ..Counts::default()
            },
        );
    }

    pub fn totals(&self) -> (u64, u64) {
        self.layers.iter().fold((0, 0), |(p, f), (_, c)| {
            (p + c.passed, f + c.failed + u64::from(c.broken))
        })
    }

    pub fn ok(&self) -> bool {
        self.totals().1 == 0
    }

    pub fn print(&self, elapsed: Duration) {
        println!("\nSummary ({:.0} s):", elapsed.as_secs_f64());
        for (layer, c) in &self.layers {
            let broken = if c.broken { " (did not complete)" } else { "" };
            println!(
                "  {layer:<18} {:>5} passed, {:>3} failed{broken}",
                c.passed, c.failed
            );
        }
        let (passed, failed) = self.totals();
        println!("{passed} passed, {failed} failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_summary_lines() {
        let line = "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.10s";
        assert_eq!(parse_result_line(line), Some((12, 0)));
        let line = "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_result_line(line), Some((3, 2)));
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_result_line("running 3 tests"), None);
        assert_eq!(parse_result_line("test foo ... ok"), None);
    }

    #[test]
    fn a_broken_layer_counts_as_a_failure() {
        let mut summary = Summary::default();
        summary.add(
            "host",
            Counts {
                passed: 5,
                failed: 0,
                broken: false,
            },
        );
        summary.record_failure("release build");
        assert_eq!(summary.totals(), (5, 1));
        assert!(!summary.ok());
    }
}
