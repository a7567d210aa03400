use super::*;

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
