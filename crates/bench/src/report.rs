//! The table printed at the end and the JSON written beside it.

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Figures gathered by the scenarios, in the order they are printed.
#[derive(Default)]
pub struct Report {
    rows: Vec<(String, String, String)>,
    json: Map<String, Value>,
}

impl Report {
    /// A row of the table: the figure's name, its value as text, and the target (or "").
    pub fn row(&mut self, figure: &str, measured: String, target: &str) {
        self.rows
            .push((figure.to_owned(), measured, target.to_owned()));
    }

    /// A machine-readable value under `key` (dotted keys are kept as they are).
    pub fn value(&mut self, key: &str, value: Value) {
        self.json.insert(key.to_owned(), value);
    }

    /// Prints the table on stdout.
    pub fn print(&self) {
        let width = |column: fn(&(String, String, String)) -> &String| {
            self.rows
                .iter()
                .map(|row| column(row).chars().count())
                .max()
                .unwrap_or(0)
        };
        let (a, b, c) = (width(|r| &r.0), width(|r| &r.1), width(|r| &r.2));
        let (a, b, c) = (a.max(6), b.max(8), c.max(6));
        println!(
            "| {:<a$} | {:<b$} | {:<c$} |",
            "figure", "measured", "target"
        );
        println!(
            "|{}|{}|{}|",
            "-".repeat(a + 2),
            "-".repeat(b + 2),
            "-".repeat(c + 2)
        );
        for (figure, measured, target) in &self.rows {
            println!("| {figure:<a$} | {measured:<b$} | {target:<c$} |");
        }
    }

    /// The JSON document.
    pub fn to_json(&self) -> Value {
        Value::Object(self.json.clone())
    }
}

/// p50 / p90 / p99 / max of a histogram of microseconds, as JSON milliseconds.
pub fn percentiles(histogram: &Histogram<u64>) -> Value {
    let ms = |micros: u64| (micros as f64 / 1000.0 * 100.0).round() / 100.0;
    json!({
        "count": histogram.len(),
        "p50_ms": ms(histogram.value_at_quantile(0.50)),
        "p90_ms": ms(histogram.value_at_quantile(0.90)),
        "p99_ms": ms(histogram.value_at_quantile(0.99)),
        "max_ms": ms(histogram.max()),
    })
}

/// "p50 1.0 / p90 2.1 / p99 3.3 / max 80 ms".
pub fn percentiles_text(histogram: &Histogram<u64>) -> String {
    if histogram.is_empty() {
        return "none".to_owned();
    }
    let ms = |micros: u64| format_ms(micros as f64 / 1000.0);
    format!(
        "p50 {} / p90 {} / p99 {} / max {} ms",
        ms(histogram.value_at_quantile(0.50)),
        ms(histogram.value_at_quantile(0.90)),
        ms(histogram.value_at_quantile(0.99)),
        ms(histogram.max())
    )
}

/// Milliseconds with a precision that suits their size.
pub fn format_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// Bytes as "12.3 MB" (decimal megabytes, as in the README).
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Seconds with two decimals.
pub fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// A count with thousands separators: 10000 → "10,000".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
