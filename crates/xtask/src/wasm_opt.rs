//! wasm-opt on the app's wasm, run here rather than by trunk (`data-wasm-opt="0"` in
//! index.html) because its last pass renames the names on the boundary between the wasm and its
//! JS glue, and the glue must then be rewritten with the new names, which trunk cannot do.
//!
//! wasm-bindgen names each import after the function and a 16-digit hash
//! (`__wbg_setRequestHeader_a62c26acc62b07c7`), under the module `./colloque_bg.js`, and some
//! exports after a closure's whole type; each name is written in the wasm and again in the
//! glue, and hashes do not compress. `--minify-imports-and-exports-and-modules` (binaryen's pass
//! for Emscripten's release builds) renames them all to one or two letters and prints the map;
//! [`Renames::apply`] rewrites the glue by it. Measured on the first load of 2026-12-07, one
//! wasm-opt run with and without the pass: the wasm 204,689 → 200,719 bytes brotli, and its glue
//! less too.

use crate::{Result, tools};
use std::path::Path;

/// The passes: `-Oz`, then flatten and re-loop the control flow twice, each time followed by
/// `-Oz` (1.3 KB less brotli than `-Oz` alone with one round, 0.2 KB more with the second), then
/// the boundary's names, then the two custom sections nothing reads (`producers`,
/// `target_features`: 0.1 KB). Measured 2026-12-07 on the first load's wasm: 200,719 bytes
/// brotli with one round and the sections, 200,324 with this.
const PASSES: [&str; 11] = [
    "-Oz",
    "--flatten",
    "--rereloop",
    "-Oz",
    "--flatten",
    "--rereloop",
    "-Oz",
    "-Oz",
    "--minify-imports-and-exports-and-modules",
    "--strip-producers",
    "--strip-target-features",
];

/// The one module every import comes from after the pass (binaryen's `SINGLETON_MODULE_NAME`).
const MODULE: &str = "a";

/// Optimises `wasm` in place and rewrites its glue `js` with the names it got.
pub fn optimize(env: &tools::ToolEnv, wasm: &Path, js: &Path) -> Result {
    let out = env
        .command("wasm-opt")
        .arg(wasm)
        .args(PASSES)
        .arg("-o")
        .arg(wasm)
        .output()
        .map_err(|e| format!("wasm-opt: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "wasm-opt failed on {}: {}",
            wasm.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let renames = Renames::parse(&String::from_utf8_lossy(&out.stdout))?;
    let glue = std::fs::read_to_string(js).map_err(|e| format!("{}: {e}", js.display()))?;
    let glue = renames
        .apply(&glue)
        .map_err(|e| format!("{}: {e}", js.display()))?;
    std::fs::write(js, glue).map_err(|e| e.to_string())
}

/// The pass's map: `{"imports": [[module, old, new], …], "exports": [[old, new], …]}`.
#[derive(Debug, PartialEq)]
struct Renames {
    imports: Vec<(String, String, String)>,
    exports: Vec<(String, String)>,
}

impl Renames {
    fn parse(json: &str) -> Result<Self> {
        let mut renames = Renames {
            imports: Vec::new(),
            exports: Vec::new(),
        };
        for group in string_arrays(json)? {
            match <[String; 3]>::try_from(group) {
                Ok([module, old, new]) => renames.imports.push((module, old, new)),
                Err(group) => match <[String; 2]>::try_from(group) {
                    Ok([old, new]) => renames.exports.push((old, new)),
                    Err(group) => return Err(format!("wasm-opt's map has {group:?}")),
                },
            }
        }
        if renames.imports.is_empty() {
            return Err("wasm-opt printed no map of the imports' new names".into());
        }
        Ok(renames)
    }

    /// The glue with the new names. Each import is a key of the glue's import object, so each
    /// old name must be there exactly once, and the module's name once; the glue reads every
    /// export as `wasm.<name>` (the ones it does not read, such as `main`, are not there).
    fn apply(&self, glue: &str) -> Result<String> {
        let mut glue = glue.to_owned();
        let mut modules: Vec<&str> = self.imports.iter().map(|(m, _, _)| m.as_str()).collect();
        modules.sort_unstable();
        modules.dedup();
        for module in modules {
            let (next, count) =
                replace_name(&glue, &format!("\"{module}\""), &format!("\"{MODULE}\""));
            if count != 1 {
                return Err(format!(
                    "the module \"{module}\" is named {count} times, not once"
                ));
            }
            glue = next;
        }
        for (_, old, new) in &self.imports {
            let (next, count) = replace_name(&glue, old, new);
            if count != 1 {
                return Err(format!("the import {old} is named {count} times, not once"));
            }
            glue = next;
        }
        for (old, new) in &self.exports {
            glue = replace_name(&glue, &format!("wasm.{old}"), &format!("wasm.{new}")).0;
        }
        Ok(glue)
    }
}

/// Every innermost array of strings in `json`, in order. The map holds names only: a string
/// with an escape is refused rather than read wrong.
fn string_arrays(json: &str) -> Result<Vec<Vec<String>>> {
    let mut arrays = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        match c {
            '[' => current = Some(Vec::new()),
            ']' => {
                if let Some(array) = current.take().filter(|a| !a.is_empty()) {
                    arrays.push(array);
                }
            }
            '"' => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => return Err("an escape in wasm-opt's map".into()),
                        Some(c) => text.push(c),
                        None => return Err("wasm-opt's map ends in a string".into()),
                    }
                }
                if let Some(array) = current.as_mut() {
                    array.push(text);
                }
            }
            _ => {}
        }
    }
    Ok(arrays)
}

/// `text` with `old` replaced by `new` where it is a whole name (no name character either
/// side), and how many times.
fn replace_name(text: &str, old: &str, new: &str) -> (String, usize) {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut count) = (0, 0);
    for (at, _) in text.match_indices(old) {
        let before = text[..at].chars().next_back();
        let after = text[at + old.len()..].chars().next();
        if before.is_some_and(is_name) || after.is_some_and(is_name) {
            continue;
        }
        out.push_str(&text[copied..at]);
        out.push_str(new);
        copied = at + old.len();
        count += 1;
    }
    out.push_str(&text[copied..]);
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape binaryen 132 prints, and the shape of wasm-bindgen 0.2.130's glue.
    const MAP: &str = r#"{
 "imports": [
  ["./colloque_bg.js", "__wbg_name_d1fa514fdca6a975", "$"],
  ["./colloque_bg.js", "__wbg_name_d1fa514fdca6a975_x", "a"]
 ],
"exports": [
  ["memory", "b"],
  ["main", "c"]
 ]
}"#;
    const GLUE: &str = "const import0 = { __proto__: null, __wbg_name_d1fa514fdca6a975: \
        function(a) { return a.name; }, __wbg_name_d1fa514fdca6a975_x: function() {} };\n\
        return { __proto__: null, \"./colloque_bg.js\": import0 };\n\
        cached = new Uint8Array(wasm.memory.buffer); const memory = 1;";

    #[test]
    fn the_glue_gets_the_new_names_of_the_imports_module_and_exports_it_reads() {
        let renames = Renames::parse(MAP).unwrap();
        assert_eq!(renames.imports.len(), 2);
        assert_eq!(
            renames.exports,
            [("memory".into(), "b".into()), ("main".into(), "c".into())]
        );
        assert_eq!(
            renames.apply(GLUE).unwrap(),
            "const import0 = { __proto__: null, $: function(a) { return a.name; }, \
             a: function() {} };\nreturn { __proto__: null, \"a\": import0 };\n\
             cached = new Uint8Array(wasm.b.buffer); const memory = 1;"
        );
    }

    #[test]
    fn a_glue_that_does_not_name_each_import_once_is_refused() {
        let renames = Renames::parse(MAP).unwrap();
        let missing = GLUE.replace(", __wbg_name_d1fa514fdca6a975_x: function() {}", "");
        assert!(
            renames
                .apply(&missing)
                .unwrap_err()
                .contains("named 0 times")
        );
        let twice = format!("{GLUE} __wbg_name_d1fa514fdca6a975;");
        assert!(renames.apply(&twice).unwrap_err().contains("named 2 times"));
        assert!(Renames::parse("{}").is_err());
        assert!(Renames::parse(r#"{"imports": [["a\"b", "c", "d"]]}"#).is_err());
    }
}
