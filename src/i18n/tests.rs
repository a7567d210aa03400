use super::*;
use yew::Callback;

#[test]
fn every_key_has_a_french_and_an_english_text() {
    for key in Key::ALL {
        for lang in [Lang::Fr, Lang::En] {
            assert!(
                !key.text(lang).trim().is_empty(),
                "{key:?} is blank in {lang:?}"
            );
        }
        assert_eq!(
            key.text(Lang::Fr).matches("{}").count(),
            key.text(Lang::En).matches("{}").count(),
            "{key:?} has different placeholders"
        );
    }
}

#[test]
fn a_too_long_message_is_explained_in_plain_french() {
    assert_eq!(
        error_key(ErrorCode::BodyTooLong).text(Lang::Fr),
        "Ce message est trop long."
    );
}

#[test]
fn unread_counts_get_real_plurals_in_both_languages() {
    let words = |lang: Lang, n: u32| {
        let i18n = I18n {
            lang,
            set: Callback::noop(),
        };
        format!("{n} {}", i18n.unread_words(n))
    };
    assert_eq!(words(Lang::Fr, 1), "1 message non lu");
    assert_eq!(words(Lang::Fr, 3), "3 messages non lus");
    assert_eq!(words(Lang::En, 1), "1 unread message");
    assert_eq!(words(Lang::En, 3), "3 unread messages");
    assert_eq!(words(Lang::En, 0), "0 unread messages");
    assert_eq!(words(Lang::Fr, 0), "0 message non lu");
}

#[test]
fn placeholders_are_filled_in_order() {
    assert_eq!(
        fill("{} / {} caractères", &["9 500", "10 000"]),
        "9 500 / 10 000 caractères"
    );
    assert_eq!(fill("sans argument", &["x"]), "sans argument");
}

#[test]
fn writing_to_a_doctor_uses_the_contracted_article() {
    assert_eq!(
        write_to(Lang::Fr, "Dr Claire Martin"),
        "Écrire au Dr Claire Martin"
    );
    assert_eq!(
        write_to(Lang::Fr, "Lucas Bernard"),
        "Écrire à Lucas Bernard"
    );
    assert_eq!(
        write_to(Lang::En, "Dr Claire Martin"),
        "Write to Dr Claire Martin"
    );
}

/// `static/en.json` as this table writes it: the fingerprint, then the English word of each key
/// of the first-load build, one per line.
fn english_file() -> String {
    let quoted = |text: &str| serde_json::to_string(text).expect("a string");
    let mut file = format!("[{}", quoted(&english::fingerprint_text()));
    for key in Key::ALL {
        file.push_str(",\n");
        file.push_str(&quoted(key.text(Lang::En)));
    }
    file.push_str("]\n");
    file
}

// The file holds the first-load build's keys: the second build has more, and its own words.
#[cfg(not(feature = "second-build"))]
#[test]
fn the_english_words_file_is_this_tables() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/static/en.json");
    let written = std::fs::read_to_string(path).unwrap_or_default();
    let expected = english_file();
    if written != expected {
        if std::env::var_os("COLLOQUE_WRITE_EN_JSON").is_some() {
            std::fs::write(path, &expected).expect("static/en.json written");
            return;
        }
        panic!(
            "static/en.json is not this table's English words: write it with \
             `COLLOQUE_WRITE_EN_JSON=1 cargo test -p colloque --lib i18n`"
        );
    }
}

#[test]
fn english_words_are_taken_only_from_this_builds_file() {
    let file: Vec<String> =
        crate::services::json::from_str(&english_file()).expect("the file is a list of words");
    let mut other_build = file.clone();
    other_build[0] = "00000000".to_owned();
    assert!(
        !english::install(other_build),
        "another build's fingerprint"
    );
    assert!(
        !english::install(file[..file.len() - 1].to_vec()),
        "a word short"
    );
    assert!(!english::install(Vec::new()), "empty");
    assert!(english::install(file), "this build's file");
    for (index, key) in Key::ALL.iter().enumerate() {
        assert_eq!(english::word(index), Some(key.text(Lang::En)), "{key:?}");
    }
}

#[test]
fn the_fingerprint_changes_with_any_word_in_either_language() {
    let base = english::fingerprint(&["Bonjour", "Oui"], &["Hello", "Yes"]);
    assert_ne!(
        base,
        english::fingerprint(&["Bonjour", "Oui"], &["Hello", "Yes!"])
    );
    assert_ne!(
        base,
        english::fingerprint(&["Bonjour", "Ouï"], &["Hello", "Yes"])
    );
    // Words are kept apart: moving a letter across a boundary is another table.
    assert_ne!(
        base,
        english::fingerprint(&["Bonjou", "rOui"], &["Hello", "Yes"])
    );
}

/// index.html's static login form, shown before the wasm has loaded, says what the app's login
/// page says in both languages (static/shell.js shows the device's): a word changed in the
/// table must be changed there too.
#[test]
fn the_static_login_form_has_the_app_s_words_in_both_languages() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/index.html"))
        .expect("index.html");
    for key in [
        Key::Tagline,
        Key::LoginTitle,
        Key::LoginIntro,
        Key::Email,
        Key::Password,
        Key::SharedComputer,
        Key::SharedComputerHelp,
        Key::LoginSubmit,
        Key::Loading,
    ] {
        let pair = format!(
            r#"<span class="fr">{}</span><span class="en" lang="en">{}</span>"#,
            key.text(Lang::Fr),
            key.text(Lang::En)
        );
        assert!(page.contains(&pair), "index.html lacks {key:?}: {pair}");
    }
    for lang in [Lang::Fr, Lang::En] {
        let switch = format!(
            r#"aria-label="{}" lang="{}">{}</button>"#,
            Key::LangSwitchLabel.text(lang),
            &lang.other().locale()[..2],
            Key::LangSwitchText.text(lang)
        );
        assert!(page.contains(&switch), "index.html lacks {switch}");
    }
}

/// static/shell.js shows the static login form in English where English was chosen: it must
/// read the key this module writes, and the value as it is saved (JSON, through gloo-storage).
#[test]
fn the_static_shell_reads_the_saved_language_as_it_is_written() {
    let saved = serde_json::to_string(&Lang::En).unwrap();
    crate::shell::assert_static_script_says(&format!(
        "localStorage.getItem(\"{STORAGE_KEY}\") === '{saved}'"
    ));
}
