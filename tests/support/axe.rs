//! axe-core in the page: its serious and critical violations, one line each. The end-to-end
//! tests that check a screen's accessibility call it (`COLLOQUE_AXE`, set by `cargo xtask
//! test`, names the browser bundle; without it, the copy `cargo xtask setup` installs).

use super::Browser;
use serde_json::Value;

/// axe-core's browser bundle. A missing bundle fails the test: a check is never skipped.
pub fn axe_source() -> String {
    let path = std::env::var("COLLOQUE_AXE").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/.tools/node_modules/axe-core/axe.min.js"
        )
        .to_owned()
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core at {path} (installed by `cargo xtask test`): {e}"))
}

/// Runs axe on the page as it is, and returns its serious and critical violations, one line
/// each: the rule, its impact, and the first offending elements.
pub async fn serious_violations(browser: &Browser, axe: &str) -> Vec<String> {
    let loaded = browser
        .execute(
            &format!("{axe}\n;return typeof window.axe === 'object';"),
            vec![],
        )
        .await;
    assert_eq!(loaded, Value::Bool(true), "axe-core loaded in the page");
    let result = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {
                    resultTypes: ['violations'],
                    // Experimental in axe, so off by default: an accessible name must contain
                    // the visible text (WCAG 2.5.3, label in name).
                    rules: {'label-content-name-mismatch': {enabled: true}}
                })
                .then(r => done(r.violations.map(v => ({
                    id: v.id, impact: v.impact,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)
                }))))
                .catch(e => done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]));",
        )
        .await;
    result
        .as_array()
        .expect("a list of violations")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| format!("{} ({}): {}", v["id"], v["impact"], v["nodes"]))
        .collect()
}
