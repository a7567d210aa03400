//! Reply templates' variables (issue 12): `{prénom}`, `{nom}`, `{date_rdv}`, `{médecin}`
//! ([`colloque_protocol::TEMPLATE_VARIABLES`]), filled in the doctor's composer before sending.
//!
//! A variable with no value (a patient with no appointment to come) is never emptied: it stays
//! in the text as written, and [`Filled::missing`] names it, so the composer can say so and
//! refuse to send until the doctor has replaced it ([`unfilled`]). Braces around anything else
//! are left alone.
//!
//! Variable names are matched without regard to case or accents, and whatever the accent's
//! encoding (`{prénom}` typed as one `é` or as `e` and a combining accent, `{Prenom}`): the
//! doctor types them, often on a keyboard that makes accents awkward.

use colloque_protocol::TEMPLATE_VARIABLES;

/// The values of a conversation, for its doctor's templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// The patient's first name.
    pub first_name: Option<String>,
    /// The patient's last name.
    pub last_name: Option<String>,
    /// The patient's next appointment with this doctor, as the doctor reads dates.
    pub appointment: Option<String>,
    /// The doctor's name.
    pub doctor: Option<String>,
}

impl Values {
    fn of(&self, variable: &str) -> Option<&str> {
        let value = match variable {
            "prénom" => &self.first_name,
            "nom" => &self.last_name,
            "date_rdv" => &self.appointment,
            "médecin" => &self.doctor,
            _ => &None,
        };
        value.as_deref().filter(|v| !v.trim().is_empty())
    }
}

/// A template's text with its variables filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// The text; a variable with no value is still there, as written.
    pub text: String,
    /// The variables left without a value, each once, in the order of
    /// [`TEMPLATE_VARIABLES`].
    pub missing: Vec<&'static str>,
}

/// A patient's first and last names from their display name ("Emma Petit"): the first word,
/// then the rest. A one-word name is a first name only.
pub fn split_name(display_name: &str) -> (Option<String>, Option<String>) {
    let name = display_name.trim();
    match name.split_once(char::is_whitespace) {
        Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
        None if name.is_empty() => (None, None),
        None => (Some(name.to_owned()), None),
    }
}

/// The variable a name in braces stands for, if any: compared in lower case, without accents.
fn variable(name: &str) -> Option<&'static str> {
    let folded = fold(name);
    TEMPLATE_VARIABLES
        .into_iter()
        .find(|variable| fold(variable) == folded)
}

/// Lower case, accents off (precomposed French letters and combining marks).
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

/// Each `{…}` of `text` that names a variable: its byte range and the variable.
fn placeholders(text: &str) -> Vec<(std::ops::Range<usize>, &'static str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|at| from + at) {
        let Some(close) = text[open + 1..].find(['}', '{']).map(|at| open + 1 + at) else {
            break;
        };
        if text[close..].starts_with('{') {
            // `{{prénom}`: the inner brace opens the placeholder.
            from = close;
            continue;
        }
        if let Some(variable) = variable(&text[open + 1..close]) {
            found.push((open..close + 1, variable));
        }
        from = close + 1;
    }
    found
}

/// Fills `body`'s variables with `values`.
pub fn fill(body: &str, values: &Values) -> Filled {
    let mut text = String::with_capacity(body.len());
    let mut missing = Vec::new();
    let mut copied = 0;
    for (range, variable) in placeholders(body) {
        text.push_str(&body[copied..range.start]);
        match values.of(variable) {
            Some(value) => text.push_str(value),
            None => {
                text.push_str(&body[range.clone()]);
                missing.push(variable);
            }
        }
        copied = range.end;
    }
    text.push_str(&body[copied..]);
    Filled {
        text,
        missing: in_order(missing),
    }
}

/// The variables still written in `text` (not replaced by the doctor), each once: the
/// composer does not send a text that has one.
pub fn unfilled(text: &str) -> Vec<&'static str> {
    in_order(placeholders(text).into_iter().map(|(_, v)| v).collect())
}

fn in_order(found: Vec<&'static str>) -> Vec<&'static str> {
    TEMPLATE_VARIABLES
        .into_iter()
        .filter(|variable| found.contains(variable))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emma() -> Values {
        Values {
            first_name: Some("Emma".into()),
            last_name: Some("Petit".into()),
            appointment: Some("mardi 3 mars 2026, 14:05".into()),
            doctor: Some("Dr Claire Martin".into()),
        }
    }

    #[test]
    fn every_variable_is_filled_and_the_rest_of_the_text_is_kept() {
        let body = "Bonjour {prénom} {nom},\nvotre rendez-vous : {date_rdv}.\n— {médecin}";
        let filled = fill(body, &emma());
        assert_eq!(
            filled.text,
            "Bonjour Emma Petit,\nvotre rendez-vous : mardi 3 mars 2026, 14:05.\n— Dr Claire Martin"
        );
        assert!(filled.missing.is_empty());
        assert!(unfilled(&filled.text).is_empty());
    }

    #[test]
    fn accents_case_and_decomposed_accents_name_the_same_variable() {
        for body in [
            "{prénom}",
            "{prenom}",
            "{Prénom}",
            "{PRÉNOM}",
            "{pre\u{301}nom}",
        ] {
            assert_eq!(fill(body, &emma()).text, "Emma", "{body:?}");
        }
        assert_eq!(fill("{medecin}", &emma()).text, "Dr Claire Martin");
        assert_eq!(fill("{Date_RDV}", &emma()).text, "mardi 3 mars 2026, 14:05");
    }

    #[test]
    fn a_variable_without_a_value_stays_as_written_and_is_reported_once() {
        let values = Values {
            appointment: None,
            ..emma()
        };
        let body = "À bientôt {prénom}, le {date_rdv} ({Date_rdv}).";
        let filled = fill(body, &values);
        assert_eq!(filled.text, "À bientôt Emma, le {date_rdv} ({Date_rdv}).");
        assert_eq!(filled.missing, vec!["date_rdv"]);
        assert_eq!(unfilled(&filled.text), vec!["date_rdv"]);
        // A blank value is no value.
        let blank = Values {
            doctor: Some("  ".into()),
            ..emma()
        };
        assert_eq!(fill("{médecin}", &blank).missing, vec!["médecin"]);
        // Once the doctor wrote the date in its place, nothing is left.
        assert!(unfilled("À bientôt Emma, le 3 mars (mardi).").is_empty());
    }

    #[test]
    fn other_braces_are_left_alone_and_odd_ones_do_not_break_the_text() {
        let body = "{inconnu} {} {{prénom}} {prénom {nom} }{ é{";
        let filled = fill(body, &emma());
        assert_eq!(filled.text, "{inconnu} {} {Emma} {prénom Petit }{ é{");
        assert!(filled.missing.is_empty());
        assert_eq!(fill("", &emma()).text, "");
        assert_eq!(
            fill("sans variable", &Values::default()).text,
            "sans variable"
        );
    }

    #[test]
    fn missing_variables_are_listed_in_the_tables_order() {
        let filled = fill("{médecin} {date_rdv} {prénom}", &Values::default());
        assert_eq!(filled.missing, vec!["prénom", "date_rdv", "médecin"]);
    }

    #[test]
    fn a_display_name_splits_into_first_and_last_names() {
        assert_eq!(
            split_name("Emma Petit"),
            (Some("Emma".into()), Some("Petit".into()))
        );
        assert_eq!(
            split_name(" Jean-Édouard  de La Tour "),
            (Some("Jean-Édouard".into()), Some("de La Tour".into()))
        );
        assert_eq!(split_name("Cher"), (Some("Cher".into()), None));
        assert_eq!(split_name(" "), (None, None));
    }
}
