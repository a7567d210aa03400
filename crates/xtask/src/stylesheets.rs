//! The second build's own style sheet (`static/doctor.css`): the rules of the doctor's screens,
//! the account page and the login's second step. Both builds are made from one `index.html`,
//! which names it after `static/app.css`; the first-load build's page loses that link here, so a
//! patient's first load neither downloads it nor counts it (docs/bundle.md, 2026-12-08).
//!
//! A rule moved there by mistake would leave a patient's screen unstyled, silently: so each
//! selector of the sheet must need a class that the first-load build never writes (its wasm,
//! where the `html!` macros keep class names as strings, and the static first screen). The check
//! is by substring, so it errs on the side of app.css: a class whose name happens to appear in
//! another string of the first load makes the build stop until its rule goes back there.

use crate::{Result, bundle};
use std::path::Path;

/// The sheet's stem: trunk names it `doctor-<hash>.css`.
pub const SECOND_BUILD_SHEET: &str = "doctor";

/// In the first-load build's `dist`: drops the second build's sheet from `index.html` and from
/// the directory (the second build brings it back under the same name), after checking that no
/// rule of it could style a page of the first load (`static/doctor.css` against the wasm,
/// `index.html` and `static/shell.js`).
pub fn keep_out_of_first_load(root: &Path, dist: &Path) -> Result {
    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path).map_err(|e| e.to_string())?;
    let (index, href) = without_stylesheet(&index, SECOND_BUILD_SHEET)?;
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut first_load = vec![
        read(&root.join("index.html"))?,
        read(&root.join("static/shell.js"))?,
    ];
    for wasm in bundle::files_with_extension(dist, &["wasm"])? {
        first_load.push(read(&wasm)?);
    }
    let sheet = std::fs::read_to_string(root.join("static/doctor.css"))
        .map_err(|e| format!("static/doctor.css: {e}"))?;
    check_second_build_only(&sheet, &first_load)?;
    let file = dist.join(href.trim_start_matches('/'));
    std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    std::fs::write(&index_path, index).map_err(|e| e.to_string())
}

/// `html` without the one `<link rel="stylesheet">` whose file is `/<stem>-….css`, and that
/// file's href.
fn without_stylesheet(html: &str, stem: &str) -> Result<(String, String)> {
    let prefix = format!("href=\"/{stem}-");
    let what = format!("{stem} style sheet links");
    let (page, tag) = bundle::without_one_link(html, "<link rel=\"stylesheet\"", &prefix, &what)?;
    let href = tag[tag.find(&prefix).unwrap_or_default() + "href=\"".len()..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    if !href.ends_with(".css") {
        return Err(format!("{tag}: not a style sheet's name"));
    }
    Ok((page, href))
}

/// Each selector of `sheet` needs at least one class that none of `first_load` contains.
fn check_second_build_only(sheet: &str, first_load: &[Vec<u8>]) -> Result {
    let written = |class: &str| {
        first_load
            .iter()
            .any(|text| text.windows(class.len()).any(|w| w == class.as_bytes()))
    };
    let wrong: Vec<String> = selectors(sheet)
        .into_iter()
        .filter(|selector| classes(selector).iter().all(|class| written(class)))
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "static/doctor.css styles what the first-load build shows (each class of these \
             selectors is in its wasm or static page); move their rules to static/app.css: {}",
            wrong.join(" | ")
        ))
    }
}

/// The selectors of a style sheet's rules, comma by comma (comments dropped, at-rules such as
/// `@media` skipped for the rules inside them).
fn selectors(sheet: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = sheet;
    while let Some(at) = rest.find("/*") {
        text.push_str(&rest[..at]);
        rest = rest[at..]
            .find("*/")
            .map_or("", |end| &rest[at + end + 2..]);
    }
    text.push_str(rest);
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => {
                let prelude = text[start..i].trim();
                if !prelude.starts_with('@') {
                    out.extend(prelude.split(',').map(|s| s.trim().to_owned()));
                }
                start = i + 1;
            }
            '}' | ';' => start = i + 1,
            _ => {}
        }
    }
    out
}

/// The class names in a selector (`.a .b:hover` → `a`, `b`).
fn classes(selector: &str) -> Vec<&str> {
    selector
        .split('.')
        .skip(1)
        .map(|part| {
            let end = part
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(part.len());
            &part[..end]
        })
        .filter(|class| !class.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<head><link rel=\"stylesheet\" href=\"/app-0a1b.css\" integrity=\"sha384-x\"/>\
        <link rel=\"stylesheet\" href=\"/doctor-2c3d.css\" integrity=\"sha384-y\"/></head>";

    #[test]
    fn the_second_build_s_sheet_leaves_the_first_load_s_page_and_the_other_stays() {
        let (page, href) = without_stylesheet(PAGE, "doctor").unwrap();
        assert_eq!(href, "/doctor-2c3d.css");
        assert_eq!(
            page,
            "<head><link rel=\"stylesheet\" href=\"/app-0a1b.css\" integrity=\"sha384-x\"/></head>"
        );
        assert!(
            without_stylesheet(&page, "doctor").is_err(),
            "named nowhere"
        );
        let twice = PAGE.replace("app-0a1b", "doctor-0a1b");
        assert!(without_stylesheet(&twice, "doctor").is_err(), "named twice");
    }

    #[test]
    fn selectors_and_their_classes_are_read_past_comments_and_media_queries() {
        let sheet = "/* a { */ .a, .b .c:hover { x: 1; }\n@media (max-width: 9px) {\n  .d[aria-x=\"y\"] { y: .5rem; }\n}\nli { z: 0 }";
        assert_eq!(
            selectors(sheet),
            [".a", ".b .c:hover", ".d[aria-x=\"y\"]", "li"]
        );
        assert_eq!(classes(".b .c:hover"), ["b", "c"]);
        assert_eq!(classes("li"), Vec::<&str>::new());
    }

    #[test]
    fn a_rule_the_first_load_could_use_stops_the_build() {
        let first_load = vec![b"\"medecin-messaging\" \"item\"".to_vec()];
        // `.stages` is written only by the second build: its rule cannot touch the first load.
        assert!(
            check_second_build_only(".medecin-messaging .stages { x: 1 }", &first_load).is_ok()
        );
        // Every class of this one is in the first load, and so is an element-only selector.
        let err = check_second_build_only(".medecin-messaging .item, li { x: 1 }", &first_load)
            .unwrap_err();
        assert!(err.contains(".medecin-messaging .item | li"), "{err}");
    }
}
