use super::*;

/// The patterns as a JSON Schema validator reads them: Rust's `regex` agrees with ECMA and
/// Python's `re` on everything they use (classes, `\uXXXX`, bounded repetition, anchors).
fn matches(pattern: &str, text: &str) -> bool {
    regex::Regex::new(pattern).unwrap().is_match(text)
}

/// What the server does with a text: trim the white space around it, then count its
/// characters, none of which may be refused.
fn model(text: &str, min: usize, max: usize, refused: fn(char) -> bool) -> bool {
    let trimmed = text.trim();
    (min..=max).contains(&trimmed.chars().count()) && !trimmed.chars().any(refused)
}

const SAMPLES: [&str; 15] = [
    "",
    "a",
    "ab",
    "abc",
    " abc ",
    "\u{3000}a\u{2028}",
    "a b",
    "\tab\n",
    "a\u{7}b",
    "a\nb",
    " \n\t",
    "\u{0}",
    "a\u{0}b",
    "abcd",
    " abcd\u{85}",
];

#[test]
fn the_body_pattern_reads_as_the_server_does() {
    // The same builder with a small maximum, against the model, on every sample.
    let pattern = trimmed_pattern(1, 3, BODY_CHARACTERS);
    for text in SAMPLES {
        assert_eq!(
            matches(&pattern, text),
            model(text, 1, 3, |c| c == '\0'),
            "{text:?}"
        );
    }
    // The server follows the model, at its real maximum.
    let longest = "é".repeat(MAX_MESSAGE_CHARS);
    let edges = [format!("  {longest}\n"), format!("{longest}x")];
    for text in SAMPLES
        .iter()
        .copied()
        .chain(edges.iter().map(String::as_str))
    {
        assert_eq!(
            crate::domain::MessageBody::parse(text).is_ok(),
            model(text, 1, MAX_MESSAGE_CHARS, |c| c == '\0'),
            "{:?}",
            text.chars().take(8).collect::<String>()
        );
    }
    assert!(trimmed_pattern(1, MAX_MESSAGE_CHARS, BODY_CHARACTERS).contains("{0,9998}"));
}

#[test]
fn the_attachment_name_pattern_reads_as_the_server_does() {
    let inner = name_characters();
    let refused = |c: char| c.is_control() || c == '/' || c == '\\';
    let pattern = trimmed_pattern(1, 3, &inner);
    let extra = ["a/b", "a\\b", "/", " \\ ", "ab/"];
    for text in SAMPLES.iter().copied().chain(extra) {
        assert_eq!(
            matches(&pattern, text),
            model(text, 1, 3, refused),
            "{text:?}"
        );
    }
    let longest = "é".repeat(MAX_ATTACHMENT_NAME_CHARS);
    let edges = [format!(" {longest} "), format!("{longest}x")];
    for text in SAMPLES
        .iter()
        .copied()
        .chain(extra)
        .chain(edges.iter().map(String::as_str))
    {
        assert_eq!(
            crate::attachments::parse_name(text).is_ok(),
            model(text, 1, MAX_ATTACHMENT_NAME_CHARS, refused),
            "{text:?}"
        );
    }
}

#[test]
fn the_subject_pattern_reads_as_the_server_does() {
    let inner = format!("^{CONTROL}");
    let pattern = trimmed_pattern(0, 3, &inner);
    for text in SAMPLES {
        assert_eq!(
            matches(&pattern, text),
            model(text, 0, 3, char::is_control),
            "{text:?}"
        );
    }
    let longest = "ü".repeat(MAX_SUBJECT_CHARS);
    let edges = [format!(" {longest} "), format!("{longest}x")];
    for text in SAMPLES
        .iter()
        .copied()
        .chain(edges.iter().map(String::as_str))
    {
        assert_eq!(
            crate::domain::Subject::parse(Some(text)).is_ok(),
            model(text, 0, MAX_SUBJECT_CHARS, char::is_control),
            "{text:?}"
        );
    }
    assert!(trimmed_pattern(0, MAX_SUBJECT_CHARS, &inner).contains("{0,198}"));
}

#[test]
fn the_closing_reason_pattern_reads_as_the_server_does() {
    let refused = |c: char| c.is_control() && c != '\n' && c != '\t';
    let pattern = trimmed_pattern(1, 3, REASON_CHARACTERS);
    let samples = SAMPLES
        .iter()
        .copied()
        .chain(["a\tb", "a\rb", "a\u{85}b", "a\u{9f}"]);
    for text in samples.clone() {
        assert_eq!(
            matches(&pattern, text),
            model(text, 1, 3, refused),
            "{text:?}"
        );
    }
    let longest = "è".repeat(MAX_CLOSE_REASON_CHARS);
    let edges = [format!("\n{longest} "), format!("{longest}x")];
    for text in samples.chain(edges.iter().map(String::as_str)) {
        assert_eq!(
            crate::domain::CloseReason::parse(text).is_ok(),
            model(text, 1, MAX_CLOSE_REASON_CHARS, refused),
            "{:?}",
            text.chars().take(8).collect::<String>()
        );
    }
}
